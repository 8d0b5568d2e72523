"""Reads: every query is scoped to the official's organization; an item's state comes from its prediction."""

from django.db.models import Case, CharField, Count, F, Q, Value, When
from django.shortcuts import get_object_or_404
from django.utils import timezone

from recognition.models import Prediction

from .models import Batch, BatchItem

State = BatchItem.State
RATE_WINDOW = 100  # the last readings the throughput is measured over


def is_official(user):
    return bool(user.is_authenticated and user.is_official and user.organization_id)


def _auto_accepted(item, batch):
    """Done, something read, and at least as sure as the batch's threshold.
    ``item`` and ``batch`` are the lookup prefixes from the model queried."""
    done = Q(**{f"{item}prediction__status": Prediction.Status.DONE,
                f"{item}prediction__confidence__gte": F(f"{batch}threshold")})
    digit = Q(**{f"{batch}kind": Batch.Kind.DIGIT, f"{item}prediction__digit__isnull": False})
    number = ~Q(**{f"{batch}kind": Batch.Kind.DIGIT}) & ~Q(**{f"{item}prediction__digits": ""})
    return done & (digit | number)


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


def items_of(batch):
    """The batch's items in order, each with its prediction and its derived ``state``."""
    whens = [When(q, then=Value(state.value)) for state, q in _state_filters().items()]
    return (
        BatchItem.objects.filter(batch=batch).select_related("prediction", "batch")
        .annotate(state=Case(*whens, default=Value(State.NEEDS_REVIEW.value), output_field=CharField()))
    )


def item_of(user, batch_pk, pk):
    return get_object_or_404(BatchItem.objects.select_related("prediction"), pk=pk, batch=batch_of(user, batch_pk))
