"""The review pages: the queue, the review screen as a plain form (no JavaScript), bulk acceptance,
isolation, the officials' home and the admin."""

import pytest
from django.urls import reverse

from batches import selectors, services
from batches.models import BatchItem, ReviewAction

from .conftest import read_batch

pytestmark = pytest.mark.django_db
State = BatchItem.State


@pytest.fixture
def queue(official):
    """Three amounts to review (0.3, 0.5, 0.7 sure) and one sure enough to be accepted automatically."""
    return read_batch(official, [("500", 0.5), ("300", 0.3), ("700", 0.7), ("999", 0.999)])


def review_url(item, query=""):
    return reverse("review-item", args=[item.pk]) + (f"?{query}" if query else "")


def act(client, item, action, value="", query=""):
    return client.post(review_url(item, query), {"action": action, "value": value})


def test_the_queue_lists_items_to_review_lowest_confidence_first(official_client, queue):
    page = official_client.get(reverse("review-queue")).content.decode()
    rows = [page.index(f'<tr data-item="{item.pk}">') for item in (queue[1][1], queue[1][0], queue[1][2])]
    assert rows == sorted(rows)
    assert f'data-item="{queue[1][3].pk}"' not in page  # auto-accepted: not in the default queue
    assert "3 items, lowest confidence first." in page


def test_the_queue_filters_and_says_when_a_filter_is_wrong(official_client, queue):
    page = official_client.get(reverse("review-queue"), {"confidence_below": "40"}).content.decode()
    assert page.count("<tr data-item=") == 1
    page = official_client.get(reverse("review-queue"), {"state": "auto_accepted"}).content.decode()
    assert f'data-item="{queue[1][3].pk}"' in page and page.count("<tr data-item=") == 1
    for bad in ({"confidence_below": "lots"}, {"state": "pending"}, {"batch": "not-a-batch"},
                {"confidence_below": "150"}):
        response = official_client.get(reverse("review-queue"), bad)
        assert response.status_code == 400, bad
        assert "The filters are not valid" in response.content.decode()


def test_enter_accepts_then_goes_to_the_next_item(official_client, official, queue):
    _, (five, three, seven, _) = queue
    page = official_client.get(review_url(three))
    assert page.status_code == 200
    three.refresh_from_db()
    assert three.claimed_by == official  # open on the screen: claimed
    response = act(official_client, three, "save", "300")
    assert response.status_code == 302 and response["Location"] == review_url(five)
    assert selectors.state_of(three) == State.ACCEPTED


def test_a_typed_value_corrects_and_a_bad_one_is_explained(official_client, queue):
    _, (five, *_) = queue
    response = act(official_client, five, "save", "50x")
    assert response.status_code == 400 and "Type digits only" in response.content.decode()
    assert 'value="50x"' in response.content.decode()  # what was typed stays in the box
    act(official_client, five, "save", "550")
    five.refresh_from_db()
    assert (five.decision, five.final_value) == ("corrected", "550")


def test_reject_then_undo_twice_across_items(official_client, queue):
    _, (five, three, *_) = queue
    act(official_client, three, "reject")
    act(official_client, five, "save", "500")
    response = act(official_client, three, "undo")  # U takes back the last decision, on five
    assert response["Location"] == review_url(five)
    assert selectors.state_of(five) == State.NEEDS_REVIEW
    act(official_client, five, "undo")
    assert selectors.state_of(three) == State.NEEDS_REVIEW
    assert ReviewAction.objects.filter(action="undo").count() == 2


def test_the_screen_shows_the_history_and_boxes(official_client, official, queue):
    _, (five, *_) = queue
    five.prediction.characters = [{"digit": "5", "box": [1, 2, 10, 20], "confidence": 0.5}]
    five.prediction.width, five.prediction.height = 100, 40
    five.prediction.save()
    services.correct(official, five, "555")
    page = official_client.get(review_url(five)).content.decode()
    assert '<tr data-action="correct">' in page and "500 → 555" in page and "clerk@first.example" in page
    assert '<svg class="box" x="1" y="2" width="10" height="20"' in page
    assert 'rel="prefetch"' in page  # the next item's image


def test_another_reviewers_claim_is_shown_and_refused(client, official, colleague, queue):
    _, (five, *_) = queue
    services.claim(official, five)
    client.force_login(colleague)
    page = client.get(review_url(five)).content.decode()
    assert "clerk@first.example is reviewing this item" in page
    response = act(client, five, "save", "500")
    assert response.status_code == 409 and selectors.state_of(five) == State.NEEDS_REVIEW


def test_start_and_next_skip_what_another_reviewer_holds(client, official, colleague, queue):
    _, (five, three, seven, _) = queue
    services.claim(official, three)
    client.force_login(colleague)
    page = client.get(reverse("review-queue")).content.decode()
    assert f'class="button" href="{review_url(five)}">Start reviewing' in page
    assert "clerk@first.example has it open" in page
    services.release(official, three)
    services.claim(official, five)
    response = act(client, three, "next")
    assert response["Location"] == review_url(seven)


def test_the_last_item_leads_back_to_the_queue(official_client, official, queue):
    _, (five, three, seven, _) = queue
    for item in (three, five):
        services.reject(official, item)
    response = act(official_client, seven, "save", "700", query="state=needs_review")
    assert response["Location"] == reverse("review-queue") + "?state=needs_review"
    assert "The queue is empty" in official_client.get(response["Location"]).content.decode()


def test_accept_above_counts_then_accepts(official_client, queue):
    batch, (five, three, seven, _) = queue
    page = official_client.get(reverse("review-accept-above"), {"batch": batch.pk, "confidence": "50"})
    assert "2 items of “Cheques” need review and are at least 50% sure." in page.content.decode()
    response = official_client.post(reverse("review-accept-above"), {"batch": batch.pk, "confidence": "50"})
    assert response.status_code == 302
    assert [selectors.state_of(i) for i in (five, three, seven)] == [State.ACCEPTED, State.NEEDS_REVIEW,
                                                                      State.ACCEPTED]
    response = official_client.get(reverse("review-accept-above"), {"batch": batch.pk, "confidence": "x"})
    assert response.status_code == 400 and "Enter a number." in response.content.decode()


def test_other_banks_and_other_people_get_404(client, queue, outsider, plain_user):
    batch, (five, *_) = queue
    urls = [reverse("review-queue"), review_url(five), reverse("batch-item-image", args=[batch.pk, five.pk])]
    for user in (outsider, plain_user):
        client.force_login(user)
        for url in urls[1:] if user == outsider else urls:
            assert client.get(url).status_code == 404, (user, url)
        assert client.post(review_url(five), {"action": "reject"}).status_code == 404
        response = client.post(reverse("review-accept-above"), {"batch": batch.pk, "confidence": "1"})
        # The outsider's form has no such batch to choose; a plain user gets no page at all.
        assert response.status_code == (400 if user == outsider else 404)
    assert not ReviewAction.objects.exists()
    client.logout()
    response = client.get(review_url(five))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_the_home_page_shows_officials_their_open_batches_and_queue(official_client, queue, plain_user,
                                                                    client):
    page = official_client.get(reverse("home")).content.decode()
    assert "Cheques</a>: 0 being read," in page and "3 to review</a>" in page
    assert 'id="review-queue-size">3<' in page
    assert reverse("review-queue") in page
    client.force_login(plain_user)
    assert "review-queue-size" not in client.get(reverse("home")).content.decode()


def test_the_admin_shows_decisions_and_audit_read_only(admin_client, official, queue):
    _, (five, *_) = queue
    services.correct(official, five, "550")
    action = ReviewAction.objects.get()
    assert admin_client.get(reverse("admin:batches_reviewaction_changelist")).status_code == 200
    page = admin_client.get(reverse("admin:batches_reviewaction_change", args=[action.pk])).content.decode()
    assert "550" in page and 'name="value_after"' not in page  # shown, not editable
    assert admin_client.get(reverse("admin:batches_reviewaction_add")).status_code == 403
    assert admin_client.post(reverse("admin:batches_reviewaction_delete", args=[action.pk]), {"post": "yes"}
                             ).status_code == 403
    page = admin_client.get(reverse("admin:batches_batchitem_change", args=[five.pk])).content.decode()
    assert "Corrected" in page and 'name="final_value"' not in page and "500" in page
    admin_client.post(reverse("admin:batches_batchitem_change", args=[five.pk]), {"final_value": "1"})
    five.refresh_from_db()
    assert five.final_value == "550" and ReviewAction.objects.count() == 1


def test_u_leaves_a_colleagues_later_decision_alone(client, official_client, colleague, queue):
    _, (five, three, *_) = queue
    act(official_client, three, "reject")
    services.correct(colleague, three, "303")
    response = act(official_client, five, "undo")
    assert response["Location"] == review_url(three)
    assert "was changed since your decision: nothing undone." in official_client.get(
        response["Location"]).content.decode()
    three.refresh_from_db()
    assert (three.decision, three.final_value) == ("corrected", "303")


def test_one_item_is_told_in_the_singular(official_client, official, queue):
    """The counts go through ngettext / blocktranslate count: one item reads "1 item", not "1 items"."""
    batch, (five, three, seven, _) = queue
    for item in (three, five):
        services.reject(official, item)
    assert "1 item, lowest confidence first." in official_client.get(reverse("review-queue")).content.decode()
    page = official_client.get(review_url(seven)).content.decode()
    assert "1 item in it" in page
    page = official_client.get(reverse("home")).content.decode()
    assert '<span id="review-queue-size">1</span> item to review' in page and "1 to review</a>" in page
    page = official_client.get(reverse("review-accept-above"), {"batch": batch.pk, "confidence": "60"})
    page = page.content.decode()
    assert "1 item of “Cheques” needs review and is at least 60% sure." in page and ">Accept 1 item<" in page
    response = official_client.post(reverse("review-accept-above"), {"batch": batch.pk, "confidence": "60"},
                                    follow=True)
    assert "1 item of Cheques accepted." in response.content.decode()
    assert selectors.state_of(seven) == State.ACCEPTED
