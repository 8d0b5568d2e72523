"""Reads: every query is scoped to the official's organization; an item's state comes from its prediction."""

from django.db.models import Case, CharField, Count, F, FloatField, Q, Value, When
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.selectors import is_official  # noqa: F401 (the pages and API of batches ask it here)
from recognition.models import Prediction

from .models import Batch, BatchItem, ReviewAction

State = BatchItem.State
RATE_WINDOW = 100  # the last readings the throughput is measured over


def _has_reading(item="", batch="batch__"):
    """Something was read: a digit in a digit batch, some digits in the others.
    ``item`` and ``batch`` are the lookup prefixes from the model queried."""
    digit = Q(**{f"{batch}kind": Batch.Kind.DIGIT, f"{item}prediction__digit__isnull": False})
    number = ~Q(**{f"{batch}kind": Batch.Kind.DIGIT}) & ~Q(**{f"{item}prediction__digits": ""})
    return digit | number


def _auto_accepted(item, batch):
    """Done, something read, and at least as sure as the batch's threshold."""
    done = Q(**{f"{item}prediction__status": Prediction.Status.DONE,
                f"{item}prediction__confidence__gte": F(f"{batch}threshold")})
    return done & _has_reading(item, batch)


def _state_filters(item="", batch="batch__"):
    """A Q per state but needs review (the rest), in order of precedence: a person's decision first."""
    undecided = Q(**{f"{item}decision": ""})
    return {
        State.ACCEPTED: Q(**{f"{item}decision": BatchItem.Decision.ACCEPTED}),
        State.CORRECTED: Q(**{f"{item}decision": BatchItem.Decision.CORRECTED}),
        State.REJECTED: Q(**{f"{item}decision": BatchItem.Decision.REJECTED}),
        State.PENDING: undecided & Q(**{f"{item}prediction__status": Prediction.Status.PENDING}),
        State.FAILED: undecided & Q(**{f"{item}prediction__status": Prediction.Status.FAILED}),
        State.AUTO_ACCEPTED: undecided & _auto_accepted(item, batch),
    }


def _with_counts(batches):
    counts = {f"count_{state}": Count("items", filter=q) for state, q in _state_filters("items__", "").items()}
    return batches.annotate(count_total=Count("items"), **counts)


def counts_of(batch):
    """Items per state and in all, from a batch that batches_of or batch_of gave."""
    counts = {state.value: getattr(batch, f"count_{state}") for state in _state_filters()}
    counts[State.NEEDS_REVIEW.value] = batch.count_total - sum(counts.values())
    return {"total": batch.count_total, **{state.value: counts[state.value] for state in State}}


def progress_of(batch):
    counts = counts_of(batch)
    ended = counts["total"] - counts[State.PENDING]
    return {"counts": counts, "ended": ended, "finished": ended == counts["total"],
            "percent": round(100 * ended / counts["total"]) if counts["total"] else 100}


def pace_of(batch, pending, now=None):
    """Items read per second over the batch's last RATE_WINDOW readings, from the predictions' finished
    times, and the seconds left for the ``pending`` ones at that pace; None for each while unknown.

    While items are pending the window runs up to now, so a pace falls (and the time left grows) while
    no worker reads: nothing is kept in memory, so a worker restarted mid-batch changes nothing.
    """
    finished = list(
        Prediction.objects.filter(batch_item__batch=batch, finished_at__isnull=False)
        .order_by("-finished_at").values_list("finished_at", flat=True)[:RATE_WINDOW]
    )
    if len(finished) < 2:
        return {"items_per_s": None, "seconds_left": None}
    end = max(now or timezone.now(), finished[0]) if pending else finished[0]
    span = (end - finished[-1]).total_seconds()
    rate = (len(finished) - 1) / span if span > 0 else None
    left = round(pending / rate, 1) if rate and pending else (0.0 if not pending else None)
    return {"items_per_s": round(rate, 2) if rate else None, "seconds_left": left}


def batches_of(user):
    """The batches of the user's organization, newest first, with their counts; none for non-officials."""
    if not is_official(user):
        return Batch.objects.none()
    batches = Batch.objects.filter(organization_id=user.organization_id).select_related("created_by")
    return _with_counts(batches).order_by("-created_at", "pk")  # GROUP BY queries ignore Meta.ordering


def batch_of(user, pk):
    """One batch of the user's organization, or 404: another organization's is as good as missing."""
    return get_object_or_404(batches_of(user), pk=pk)


def _with_state(items):
    whens = [When(q, then=Value(state.value)) for state, q in _state_filters().items()]
    return items.select_related("prediction", "batch").annotate(
        state=Case(*whens, default=Value(State.NEEDS_REVIEW.value), output_field=CharField())
    )


def items_of(batch, state=None, confidence_below=None):
    """The batch's items in order, each with its prediction, its derived ``state`` and ``sort_confidence``
    (nothing read counts as the lowest); optionally only those in a state or read less sure than a value."""
    items = _with_sort_confidence(_with_state(BatchItem.objects.filter(batch=batch)))
    if state:
        items = items.filter(state=state)
    if confidence_below is not None:
        items = items.filter(prediction__confidence__lt=confidence_below)
    return items


def _with_sort_confidence(items):
    return items.annotate(
        sort_confidence=Coalesce("prediction__confidence", Value(-1.0), output_field=FloatField())
    )


def item_of(user, batch_pk, pk):
    return get_object_or_404(BatchItem.objects.select_related("prediction"), pk=pk, batch=batch_of(user, batch_pk))


def value_in_effect(item):
    """The item's value now: the one a person decided (empty after a rejection), else the engine's reading."""
    return item.final_value if item.decision else item.reading


def state_of(item):
    """The item's state as stored now (services call it under the item's lock)."""
    return _with_state(BatchItem.objects.filter(pk=item.pk)).values_list("state", flat=True).get()


# --- Review ----------------------------------------------------------------------------------------------

# What a reviewer may act on: a reading that has ended (a pending or failed one has nothing to review).
REVIEWABLE = [State.NEEDS_REVIEW, State.AUTO_ACCEPTED, State.ACCEPTED, State.CORRECTED, State.REJECTED]


def live_claim_of_other(item, reviewer, now=None):
    """Whether someone else holds the item on their screen now."""
    return bool(item.claimed_by_id and item.claimed_by_id != reviewer.pk
                and item.claimed_until and item.claimed_until > (now or timezone.now()))


def _free_for(reviewer):
    """Items nobody else holds: unclaimed, claimed by the reviewer, or with an expired claim."""
    return (Q(claimed_by__isnull=True) | Q(claimed_by=reviewer) | Q(claimed_until__isnull=True)
            | Q(claimed_until__lte=timezone.now()))


def review_queue(user, batch=None, state=State.NEEDS_REVIEW, confidence_below=None):
    """The organization's items to review, lowest confidence first (nothing read counts as lowest), with
    ``sort_confidence`` for keyset paging. ``state``: one of REVIEWABLE, or None for all of them."""
    if not is_official(user):
        return BatchItem.objects.none()
    items = _with_state(BatchItem.objects.filter(batch__organization_id=user.organization_id))
    items = items.filter(state__in=[state] if state else REVIEWABLE)
    if batch is not None:
        items = items.filter(batch=batch)
    if confidence_below is not None:
        items = items.filter(prediction__confidence__lt=confidence_below)
    return _with_sort_confidence(items).order_by("sort_confidence", "pk")


def review_item_of(user, pk):
    """One item of the user's organization (with its state), or 404."""
    if not is_official(user):
        raise Http404("No such item.")
    items = BatchItem.objects.filter(batch__organization_id=user.organization_id)
    return get_object_or_404(_with_state(items), pk=pk)


def first_free(queue, reviewer):
    """Where a reviewer starts: the queue's first item nobody else holds."""
    return queue.filter(_free_for(reviewer)).first()


def neighbour_in_queue(queue, item, reviewer, forward=True):
    """The next (or previous) item of the queue after ``item`` in its order, skipping the items that other
    reviewers hold; going forward past the end wraps to the first. None when there is no other."""
    queue = queue.exclude(pk=item.pk).filter(_free_for(reviewer))
    confidence = -1.0 if item.prediction.confidence is None else item.prediction.confidence
    if forward:
        after = Q(sort_confidence__gt=confidence) | Q(sort_confidence=confidence, pk__gt=item.pk)
        return queue.filter(after).first() or queue.first()
    before = Q(sort_confidence__lt=confidence) | Q(sort_confidence=confidence, pk__lt=item.pk)
    return queue.filter(before).order_by("-sort_confidence", "-pk").first()


def items_above(batch, confidence, reviewer):
    """The batch's needs-review items with a reading at least this sure, but those other reviewers hold."""
    return (items_of(batch).filter(state=State.NEEDS_REVIEW, prediction__confidence__gte=confidence)
            .filter(_has_reading(), _free_for(reviewer)))


def count_above(batch, confidence, reviewer):
    """How many items accept_above would accept now: shown before the official confirms."""
    return items_above(batch, confidence, reviewer).count()


def effective_actions(item):
    """The item's actions still in effect, oldest first: each undo takes back the latest one left."""
    effective = []
    for action in history_of(item):
        if action.action != ReviewAction.Action.UNDO:
            effective.append(action)
        elif effective:
            effective.pop()
    return effective


def history_of(item):
    """The item's audit trail, oldest first, with who did each."""
    return ReviewAction.objects.filter(item=item).select_related("actor").order_by("created_at", "pk")


def open_batches_of(user):
    """The organization's batches that are not finished: some items still read or waiting for a reviewer."""
    decided = sum((F(f"count_{state}") for state in _state_filters()), Value(0))
    return batches_of(user).filter(Q(count_pending__gt=0) | Q(count_total__gt=decided))
