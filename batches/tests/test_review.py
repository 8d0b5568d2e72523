"""Review services and selectors: each decision with its audit row, undo, bulk accept, claims, the queue."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from batches import selectors, services
from batches.models import BatchItem, ReviewAction

from .conftest import read_batch

pytestmark = pytest.mark.django_db
State = BatchItem.State


def state(item):
    return selectors.state_of(item)


@pytest.fixture
def amounts(official):
    """Five amounts: two unsure, one sure (auto-accepted: the card's threshold is about 0.995), nothing
    read, one still pending."""
    return read_batch(official, [("1500", 0.42), ("270", 0.91), ("99", 0.999), ("", 0.3), None])


def test_accept_records_who_and_what(official, amounts):
    _, (item, *_) = amounts
    item = services.accept(official, item)
    assert (item.decision, item.final_value, item.decided_by) == ("accepted", "1500", official)
    assert state(item) == State.ACCEPTED
    action = ReviewAction.objects.get(item=item)
    assert (action.actor, action.action) == (official, "accept")
    assert (action.state_before, action.state_after) == (State.NEEDS_REVIEW, State.ACCEPTED)
    assert (action.value_before, action.value_after) == ("1500", "1500")
    assert item.prediction.digits == "1500"  # the engine's reading stays


def test_correct_keeps_the_engines_reading(official, amounts):
    _, (item, *_) = amounts
    item = services.correct(official, item, " 1600 ")
    item.prediction.refresh_from_db()
    assert (item.decision, item.final_value, item.prediction.digits) == ("corrected", "1600", "1500")
    action = ReviewAction.objects.get(item=item)
    assert (action.action, action.value_before, action.value_after) == ("correct", "1500", "1600")
    assert action.state_after == State.CORRECTED


@pytest.mark.parametrize("value, code", [
    ("", "required"), ("15a0", "not_digits"), ("1,500", "not_digits"), ("-15", "not_digits"),
    ("١٥", "not_digits"), ("9" * 65, "too_long"),
])
def test_correct_wants_digits(official, amounts, value, code):
    _, (item, *_) = amounts
    with pytest.raises(ValidationError) as error:
        services.correct(official, item, value)
    assert error.value.code == code
    assert not ReviewAction.objects.exists() and state(item) == State.NEEDS_REVIEW


def test_a_digit_batch_takes_one_digit(official):
    _, (item,) = read_batch(official, [(3, 0.5)], kind="digit")
    with pytest.raises(ValidationError, match="single digit"):
        services.correct(official, item, "12")
    assert services.correct(official, item, "8").final_value == "8"


def test_reject_and_the_auto_accepted_can_be_corrected(official, amounts):
    _, (_, second, sure, *_) = amounts
    assert services.reject(official, second).final_value == "" and state(second) == State.REJECTED
    assert state(sure) == State.AUTO_ACCEPTED
    services.correct(official, sure, "98")
    action = ReviewAction.objects.get(item=sure)
    assert (action.state_before, action.value_before) == (State.AUTO_ACCEPTED, "99")
    assert action.state_after == State.CORRECTED


def test_nothing_read_cannot_be_accepted_and_pending_cannot_be_reviewed(official, amounts):
    _, (*_, empty, pending) = amounts
    with pytest.raises(ValidationError, match="Nothing was read"):
        services.accept(official, empty)
    assert services.correct(official, empty, "12").decision == "corrected"
    for act in (services.accept, services.reject):
        with pytest.raises(ValidationError, match="still being read"):
            act(official, pending)
    assert ReviewAction.objects.count() == 1


def test_undo_restores_the_previous_decision_and_twice_undoes_two(official, colleague, amounts):
    _, (item, *_) = amounts
    services.accept(official, item)
    services.correct(colleague, item, "1600")
    item = services.undo(official, item)
    assert (item.decision, item.final_value, item.decided_by) == ("accepted", "1500", official)
    undo = ReviewAction.objects.filter(item=item).last()
    assert (undo.action, undo.actor) == ("undo", official)
    assert (undo.state_before, undo.value_before) == ("corrected", "1600")
    assert (undo.state_after, undo.value_after) == ("accepted", "1500")
    item = services.undo(official, item)
    assert (item.decision, item.final_value, item.decided_by, item.decided_at) == ("", "", None, None)
    assert state(item) == State.NEEDS_REVIEW
    with pytest.raises(ValidationError, match="nothing to undo"):
        services.undo(official, item)
    assert ReviewAction.objects.filter(item=item, action="undo").count() == 2


def test_undo_after_a_new_decision_takes_back_that_one(official, amounts):
    _, (item, *_) = amounts
    services.reject(official, item)
    services.undo(official, item)
    services.correct(official, item, "7")
    item = services.undo(official, item)
    assert state(item) == State.NEEDS_REVIEW and item.final_value == ""


def test_accept_above_takes_only_needs_review_items_at_or_above(official):
    batch, items = read_batch(official, [
        ("11", 0.96), ("12", 0.97), ("13", 0.98), ("", 0.99), ("15", 0.999), None,
    ])
    services.reject(official, items[2])  # decided already: left alone
    assert selectors.count_above(batch, 0.97, official) == 1
    assert services.accept_above(official, batch, 0.97) == 1
    assert [state(item) for item in items] == [
        State.NEEDS_REVIEW, State.ACCEPTED, State.REJECTED, State.NEEDS_REVIEW, State.AUTO_ACCEPTED,
        State.PENDING,
    ]
    bulk = ReviewAction.objects.get(action="bulk_accept")
    assert (bulk.item_id, bulk.actor, bulk.value_after, bulk.state_before) == (items[1].pk, official, "12",
                                                                               "needs_review")
    assert services.accept_above(official, batch, 0.5) == 1  # the 0.96 one; nothing read stays
    with pytest.raises(ValidationError):
        services.accept_above(official, batch, 1.5)


def test_claims_keep_reviewers_apart(official, colleague):
    _, (first, second) = read_batch(official, [("1", 0.5), ("2", 0.6)])
    services.claim(official, first)
    queue = selectors.review_queue(colleague)
    assert selectors.neighbour_in_queue(queue, second, colleague) is None  # first is held
    assert selectors.neighbour_in_queue(selectors.review_queue(official), second, official).pk == first.pk
    with pytest.raises(services.ReviewConflict, match="clerk@first.example is reviewing"):
        services.claim(colleague, first)
    with pytest.raises(services.ReviewConflict):
        services.accept(colleague, first)
    assert not ReviewAction.objects.exists()
    BatchItem.objects.filter(pk=first.pk).update(claimed_until=timezone.now() - timedelta(seconds=1))
    assert selectors.neighbour_in_queue(queue, second, colleague).pk == first.pk  # expired: free again
    assert services.claim(colleague, first).claimed_by == colleague
    services.accept(colleague, first)
    first.refresh_from_db()
    assert first.claimed_by is None  # acting lets go


def test_release_lets_go_of_ones_own_claim_only(official, colleague, amounts):
    _, (first, *_) = amounts
    services.claim(official, first)
    services.release(colleague, first)
    first.refresh_from_db()
    assert first.claimed_by == official
    services.release(official, first)
    first.refresh_from_db()
    assert first.claimed_by is None


def test_only_officials_of_the_organization_review(official, outsider, plain_user, amounts):
    batch, (item, *_) = amounts
    for person in (outsider, plain_user):
        for act in (services.accept, services.reject, services.undo, services.claim):
            with pytest.raises(PermissionDenied):
                act(person, item)
        with pytest.raises(PermissionDenied):
            services.accept_above(person, batch, 0.1)
    assert not ReviewAction.objects.exists()


def test_the_queue_is_lowest_confidence_first_and_filters(official, outsider):
    batch, items = read_batch(official, [("1", 0.6), ("2", 0.2), ("", 0.9), ("4", 0.999)])
    other, _ = read_batch(official, [("5", 0.5)], name="Other")
    read_batch(outsider, [("6", 0.1)])  # another bank's
    queue = selectors.review_queue(official)
    assert [i.reading for i in queue] == ["2", "5", "1", ""]
    assert [i.reading for i in selectors.review_queue(official, batch=other)] == ["5"]
    assert [i.reading for i in selectors.review_queue(official, confidence_below=0.55)] == ["2", "5"]
    assert [i.reading for i in selectors.review_queue(official, state=State.AUTO_ACCEPTED)] == ["4"]
    assert len(selectors.review_queue(official, state=None)) == 5
    assert [i.reading for i in selectors.review_queue(outsider)] == ["6"]
    second = items[1]
    assert selectors.neighbour_in_queue(queue, second, official, forward=False) is None
    assert selectors.neighbour_in_queue(queue, items[0], official, forward=False).reading == "5"
    assert selectors.neighbour_in_queue(queue, items[2], official).reading == "2"  # wraps to the first


def test_open_batches_are_those_not_read_or_not_reviewed(official):
    done, (item,) = read_batch(official, [("1", 0.5)], name="Done")
    read_batch(official, [("2", 0.999)], name="Auto")
    read_batch(official, [None], name="Reading")
    assert {b.name for b in selectors.open_batches_of(official)} == {"Done", "Reading"}
    services.accept(official, item)
    assert {b.name for b in selectors.open_batches_of(official)} == {"Reading"}
