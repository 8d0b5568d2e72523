"""An item's state is derived from its prediction: set the prediction's fields, read the state."""

import pytest

from batches import selectors, services
from batches.models import Batch, BatchItem
from recognition.models import Prediction

from .conftest import digit_files

pytestmark = pytest.mark.django_db
DONE, FAILED, PENDING = Prediction.Status.DONE, Prediction.Status.FAILED, Prediction.Status.PENDING
State = BatchItem.State


def batch_of_one(official, kind, **prediction_fields):
    batch = services.create_batch(official, "One", kind, digit_files(3))
    Prediction.objects.filter(batch_item__batch=batch).update(**prediction_fields)
    return batch


@pytest.mark.parametrize("kind, fields, state", [
    (Batch.Kind.DIGIT, {}, State.PENDING),
    (Batch.Kind.DIGIT, {"status": FAILED, "error": "unreadable"}, State.FAILED),
    (Batch.Kind.DIGIT, {"status": DONE, "digit": 3, "confidence": 0.995}, State.AUTO_ACCEPTED),
    (Batch.Kind.DIGIT, {"status": DONE, "digit": 3, "confidence": 0.99}, State.AUTO_ACCEPTED),  # at the threshold
    (Batch.Kind.DIGIT, {"status": DONE, "digit": 3, "confidence": 0.98}, State.NEEDS_REVIEW),
    (Batch.Kind.DIGIT, {"status": DONE, "digit": None, "confidence": 0.999}, State.NEEDS_REVIEW),  # no digit found
    # Numbers against the string reader's card threshold (fixed by conftest's card_threshold).
    (Batch.Kind.NUMBER, {"status": DONE, "digits": "123", "confidence": 0.999, "auto_accept": False},
     State.AUTO_ACCEPTED),
    (Batch.Kind.AMOUNT, {"status": DONE, "digits": "1500", "confidence": 0.5, "auto_accept": True},
     State.NEEDS_REVIEW),
    (Batch.Kind.AMOUNT, {"status": DONE, "digits": "", "confidence": 0.999}, State.NEEDS_REVIEW),  # nothing found
    (Batch.Kind.AMOUNT, {"status": FAILED, "auto_accept": True}, State.FAILED),
])
def test_the_state_comes_from_the_prediction(official, kind, fields, state):
    batch = batch_of_one(official, kind, **fields)
    item = selectors.items_of(batch).get()
    assert item.state == state
    counts = selectors.counts_of(selectors.batch_of(official, batch.pk))
    assert counts == {"total": 1, **{s.value: int(s == state) for s in State}}


@pytest.mark.parametrize("decision, state", [
    (BatchItem.Decision.ACCEPTED, State.ACCEPTED),
    (BatchItem.Decision.CORRECTED, State.CORRECTED),
    (BatchItem.Decision.REJECTED, State.REJECTED),
])
def test_a_persons_decision_comes_before_the_prediction(official, decision, state):
    batch = batch_of_one(official, Batch.Kind.DIGIT, status=DONE, digit=3, confidence=0.999)
    BatchItem.objects.filter(batch=batch).update(decision=decision)
    assert selectors.items_of(batch).get().state == state
    counts = selectors.counts_of(selectors.batch_of(official, batch.pk))
    assert counts == {"total": 1, **{s.value: int(s == state) for s in State}}


def test_the_digit_threshold_is_the_batchs_own(official):
    batch = batch_of_one(official, Batch.Kind.DIGIT, status=DONE, digit=3, confidence=0.9)
    Batch.objects.filter(pk=batch.pk).update(threshold=0.85)
    assert selectors.items_of(batch).get().state == State.AUTO_ACCEPTED


def test_progress_counts_every_state(official):
    batch = services.create_batch(official, "Four", Batch.Kind.DIGIT, digit_files(1, 2, 3, 4))
    first, second, third, _ = [item.prediction_id for item in batch.items.all()]
    Prediction.objects.filter(pk=first).update(status=DONE, digit=1, confidence=0.999)
    Prediction.objects.filter(pk=second).update(status=DONE, digit=2, confidence=0.5)
    Prediction.objects.filter(pk=third).update(status=FAILED)
    progress = selectors.progress_of(selectors.batch_of(official, batch.pk))
    assert progress == {
        "counts": {"total": 4, "pending": 1, "needs_review": 1, "auto_accepted": 1, "accepted": 0, "corrected": 0, "rejected": 0, "failed": 1},
        "ended": 3, "finished": False, "percent": 75,
    }


def test_batches_are_scoped_to_the_organization(official, colleague, outsider, plain_user):
    batch = services.create_batch(official, "Ours", Batch.Kind.DIGIT, digit_files(1))
    assert list(selectors.batches_of(colleague)) == [batch]
    assert not selectors.batches_of(outsider).exists()
    assert not selectors.batches_of(plain_user).exists()
