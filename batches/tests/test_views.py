"""The pages: only officials reach them, each sees their own organization's batches only."""

import pytest
from django.urls import reverse

from batches import services
from batches.models import Batch
from recognition.models import Prediction
from recognition.tests.conftest import sample

from .conftest import digit_files, upload, zip_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def batch(official):
    return services.create_batch(official, "March cheques", Batch.Kind.DIGIT, digit_files(1, 2))


def batch_pages(batch):
    item = batch.items.first()
    return [
        reverse("batch-list"), reverse("batch-create"), reverse("batch-detail", args=[batch.pk]),
        reverse("batch-progress", args=[batch.pk]), reverse("batch-item-image", args=[batch.pk, item.pk]),
        reverse("batch-item-thumbnail", args=[batch.pk, item.pk]),
    ]


def test_an_official_creates_a_batch_from_the_form(official_client):
    files = [*digit_files(1, 2, 3), upload("notes.txt", b"text")]
    response = official_client.post(reverse("batch-create"), {"name": "March", "kind": "digit", "files": files})
    batch = Batch.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("batch-detail", args=[batch.pk])
    assert batch.items.count() == 3
    page = official_client.get(response["Location"]).content.decode()
    assert "3 images are being read; 1 skipped." in page
    assert "notes.txt:" in page and page.count("<tr data-item=") == 3


def test_an_official_creates_a_batch_from_a_zip(official_client):
    archive = zip_of({"a.png": sample("canvas_1.png"), "b.png": sample("canvas_2.png")})
    response = official_client.post(reverse("batch-create"), {"name": "Zip", "kind": "amount", "archive": archive})
    assert response.status_code == 302
    assert Batch.objects.get().items.count() == 2


def test_a_refused_zip_is_shown_on_the_form(official_client, settings):
    settings.RECOGNITION_MAX_UPLOAD_BYTES = 50_000
    archive = zip_of({"bomb.png": b"\0" * 1_000_000})
    response = official_client.post(reverse("batch-create"), {"name": "Bomb", "kind": "digit", "archive": archive})
    assert response.status_code == 400
    assert "“bomb.png” in the zip unpacks to" in response.content.decode()
    assert not Batch.objects.exists()


def test_the_form_wants_some_images(official_client):
    response = official_client.post(reverse("batch-create"), {"name": "Empty", "kind": "digit"})
    assert response.status_code == 400 and "Choose some images or a .zip of them." in response.content.decode()


def test_each_page_and_file_for_the_official_and_a_colleague(client, batch, official, colleague):
    for user in (official, colleague):
        client.force_login(user)
        for url in batch_pages(batch):
            assert client.get(url).status_code == 200, url


def test_the_list_shows_the_batch_with_its_counts(official_client, batch):
    page = official_client.get(reverse("batch-list")).content.decode()
    assert "March cheques" in page and reverse("batch-detail", args=[batch.pk]) in page


def test_the_detail_page_shows_the_counts_without_javascript(official_client, batch):
    first = batch.items.first().prediction
    Prediction.objects.filter(pk=first.pk).update(status="done", digit=1, confidence=0.999)
    page = official_client.get(reverse("batch-detail", args=[batch.pk])).content.decode()
    assert '<strong data-count="pending">1</strong>' in page
    assert '<strong data-count="auto_accepted">1</strong>' in page
    assert '<progress id="progress-bar" max="2" value="1">50%</progress>' in page


def test_progress_json(official_client, batch):
    first, second = [item.prediction_id for item in batch.items.all()]
    Prediction.objects.filter(pk=first).update(status="done", digit=1, confidence=0.5)
    response = official_client.get(reverse("batch-progress", args=[batch.pk]))
    body = response.json()
    assert response["Cache-Control"] == "no-store"
    assert body["counts"] == {"total": 2, "pending": 1, "needs_review": 1, "auto_accepted": 0, "accepted": 0, "corrected": 0, "rejected": 0, "failed": 0}
    assert (body["ended"], body["finished"], body["percent"]) == (1, False, 50)
    assert [(i["state"], i["reading"], i["confidence_percent"]) for i in body["items"]] == [
        ("needs_review", "1", 50.0), ("pending", "", None)
    ]


def test_the_item_image_is_the_upload_served_privately(official_client, batch):
    item = batch.items.first()
    response = official_client.get(reverse("batch-item-image", args=[batch.pk, item.pk]))
    assert b"".join(response.streaming_content) == sample("canvas_1.png")
    assert response["Cache-Control"] == "private, max-age=3600"


@pytest.mark.parametrize("who", ["plain_user", "outsider"])
def test_others_get_404_on_every_page(client, batch, request, who):
    client.force_login(request.getfixturevalue(who))
    for url in batch_pages(batch):
        if who == "outsider" and url in (reverse("batch-list"), reverse("batch-create")):
            continue  # an official of another bank has their own list and form
        assert client.get(url).status_code == 404, url


def test_an_outsiders_list_does_not_show_it(client, batch, outsider):
    client.force_login(outsider)
    assert "March cheques" not in client.get(reverse("batch-list")).content.decode()


def test_an_item_of_another_batch_is_404(official_client, batch, outsider):
    theirs = services.create_batch(outsider, "Theirs", Batch.Kind.DIGIT, digit_files(5))
    item = theirs.items.get()
    assert official_client.get(reverse("batch-item-image", args=[batch.pk, item.pk])).status_code == 404


def test_a_non_official_cannot_post_a_batch(client, plain_user):
    client.force_login(plain_user)
    response = client.post(reverse("batch-create"), {"name": "No", "kind": "digit", "files": digit_files(1)})
    assert response.status_code == 404 and not Batch.objects.exists()


def test_anonymous_visitors_are_sent_to_log_in(client, batch):
    for url in batch_pages(batch):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login")), url


def test_the_admin_shows_a_batch_with_its_items_read_only(admin_client, batch):
    assert admin_client.get(reverse("admin:batches_batch_changelist")).status_code == 200
    page = admin_client.get(reverse("admin:batches_batch_change", args=[batch.pk])).content.decode()
    assert "canvas_1.png" in page and "canvas_2.png" in page
    assert 'name="items-0-original_name"' not in page  # no editable inline fields


def test_the_menu_shows_batches_to_officials_only(client, official, plain_user):
    link = f'<a href="{reverse("batch-list")}">Batches</a>'
    client.force_login(official)
    assert link in client.get(reverse("history")).content.decode()
    client.force_login(plain_user)
    assert link not in client.get(reverse("history")).content.decode()
