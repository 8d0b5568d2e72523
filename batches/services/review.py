"""Writes: a reviewer's decisions on batch items, each with its audit row (ReviewAction) in the same
transaction and under the item's row lock, the claims that keep two reviewers off one item, and undo."""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import time_format
from django.utils.translation import gettext, ngettext

from .. import selectors
from ..models import Batch, BatchItem, ReviewAction

Action, Decision, State = ReviewAction.Action, BatchItem.Decision, BatchItem.State
DECIDED = {
    State.ACCEPTED: Decision.ACCEPTED, State.CORRECTED: Decision.CORRECTED, State.REJECTED: Decision.REJECTED,
}


class ReviewConflict(Exception):
    """Another reviewer holds the item on their screen (the API answers 409)."""

    def __init__(self, item):
        until = time_format(timezone.localtime(item.claimed_until), "H:i:s")
        super().__init__(gettext("%(reviewer)s is reviewing this item (until %(until)s); choose another one.")
                         % {"reviewer": item.claimed_by, "until": until})


def accept(reviewer, item):
    """The reading is right: the final value is what the engine read."""
    def apply(locked, state):
        if state == State.ACCEPTED:
            raise ValidationError(gettext("This item is already accepted."), code="already_accepted")
        if not locked.reading:
            raise ValidationError(gettext("Nothing was read: type the value, or reject the item."),
                                  code="nothing_read")
        _decide(locked, reviewer, Decision.ACCEPTED, locked.reading, timezone.now())
    return _act(reviewer, item, Action.ACCEPT, apply)


def correct(reviewer, item, value):
    """The reading is wrong: the final value is the one typed (digits only; one digit for a digit batch)."""
    def apply(locked, state):
        _decide(locked, reviewer, Decision.CORRECTED, clean_value(locked.batch, value), timezone.now())
    return _act(reviewer, item, Action.CORRECT, apply)


def reject(reviewer, item):
    """Unreadable: no final value."""
    def apply(locked, state):
        if state == State.REJECTED:
            raise ValidationError(gettext("This item is already rejected."), code="already_rejected")
        _decide(locked, reviewer, Decision.REJECTED, "", timezone.now())
    return _act(reviewer, item, Action.REJECT, apply)


def undo(reviewer, item):
    """Take back the item's last decision that is still in effect, as the audit trail recorded it: the
    decision before it comes back (or none). Undoing again takes back the one before."""
    def apply(locked, state):
        effective = selectors.effective_actions(locked)
        if not effective:
            raise ValidationError(gettext("There is nothing to undo on this item."), code="nothing_to_undo")
        last = effective[-1]
        if last.state_before in DECIDED:
            earlier = effective[-2] if len(effective) > 1 else None  # the action that made that decision
            _decide(locked, earlier.actor if earlier else None, DECIDED[last.state_before], last.value_before,
                    earlier.created_at if earlier else None)
        else:
            _decide(locked, None, "", "", None)
    return _act(reviewer, item, Action.UNDO, apply)


def accept_above(reviewer, batch, confidence):
    """Accept every needs-review item of the batch with a reading at least ``confidence`` sure (but those
    another reviewer holds), one audit row each. Returns how many; selectors.count_above tells it first."""
    _check_reviewer(reviewer, batch.organization_id)
    confidence = clean_confidence(confidence)
    now = timezone.now()
    with transaction.atomic():
        ids = list(selectors.items_above(batch, confidence, reviewer).values_list("pk", flat=True))
        list(BatchItem.objects.select_for_update().filter(pk__in=ids).values_list("pk"))  # lock, then re-read
        items = list(selectors.items_above(batch, confidence, reviewer).filter(pk__in=ids))
        for item in items:
            item.decision, item.final_value = Decision.ACCEPTED, item.reading
            item.decided_by, item.decided_at, item.claimed_by, item.claimed_until = reviewer, now, None, None
        BatchItem.objects.bulk_update(
            items, ["decision", "final_value", "decided_by", "decided_at", "claimed_by", "claimed_until"]
        )
        ReviewAction.objects.bulk_create(ReviewAction(
            item=item, actor=reviewer, action=Action.BULK_ACCEPT, state_before=State.NEEDS_REVIEW,
            state_after=State.ACCEPTED, value_before=item.reading, value_after=item.reading,
        ) for item in items)
    return len(items)


def claim(reviewer, item):
    """Hold the item for REVIEW_CLAIM_S while it is open on the reviewer's screen (renewed at each opening).
    ReviewConflict when another reviewer holds it."""
    with transaction.atomic():
        locked = _locked(item)
        _check_reviewer(reviewer, locked.batch.organization_id)
        if selectors.live_claim_of_other(locked, reviewer):
            raise ReviewConflict(locked)
        locked.claimed_by = reviewer
        locked.claimed_until = timezone.now() + timedelta(seconds=settings.REVIEW_CLAIM_S)
        locked.save(update_fields=["claimed_by", "claimed_until"])
    return locked


def release(reviewer, item):
    """Let go of the item if the reviewer holds it (another's claim stays)."""
    BatchItem.objects.filter(pk=item.pk, claimed_by=reviewer).update(claimed_by=None, claimed_until=None)


def clean_value(batch, value):
    value = (value or "").strip()
    if not value:
        raise ValidationError(gettext("Type the value, digits only (for example 1500)."), code="required")
    if not (value.isascii() and value.isdigit()):
        raise ValidationError(
            gettext("Type digits only (0–9), without spaces, separators or signs: “%(value)s” is not.")
            % {"value": value[:64]},
            code="not_digits",
        )
    if batch.kind == Batch.Kind.DIGIT and len(value) != 1:
        raise ValidationError(
            gettext("Each item of this batch is one digit: type a single digit."), code="one_digit"
        )
    limit = BatchItem._meta.get_field("final_value").max_length
    if len(value) > limit:
        raise ValidationError(
            ngettext("Type at most %(limit)d digit.", "Type at most %(limit)d digits.", limit)
            % {"limit": limit},
            code="too_long",
        )
    return value


def clean_confidence(confidence):
    message = gettext("Give the confidence as a number from 0 to 1, e.g. 0.97.")
    try:
        confidence = float(confidence)
    except (TypeError, ValueError):
        raise ValidationError(message, code="invalid") from None
    if not 0 <= confidence <= 1:
        raise ValidationError(message, code="out_of_range")
    return confidence


def _act(reviewer, item, action, apply):
    """Lock the item, check who acts and on what, let ``apply`` change its decision, record the change."""
    with transaction.atomic():
        locked = _locked(item)
        _check_reviewer(reviewer, locked.batch.organization_id)
        if selectors.live_claim_of_other(locked, reviewer):
            raise ReviewConflict(locked)
        state_before = selectors.state_of(locked)
        if state_before not in selectors.REVIEWABLE:
            if state_before == State.PENDING:
                message = gettext("This item is still being read: there is no reading to review.")
            else:
                message = gettext("This item could not be read at all: there is no reading to review.")
            raise ValidationError(message, code="not_reviewable")
        value_before = selectors.value_in_effect(locked)
        apply(locked, state_before)
        locked.claimed_by, locked.claimed_until = None, None  # done with it: free for anyone
        locked.save(update_fields=[
            "decision", "final_value", "decided_by", "decided_at", "claimed_by", "claimed_until"
        ])
        state_after = selectors.state_of(locked)
        ReviewAction.objects.create(
            item=locked, actor=reviewer, action=action, state_before=state_before, state_after=state_after,
            value_before=value_before, value_after=selectors.value_in_effect(locked),
        )
    return locked


def _locked(item):
    items = BatchItem.objects.select_related("batch", "prediction")
    return items.select_for_update(of=("self",)).get(pk=item.pk)


def _decide(item, reviewer, decision, value, at):
    item.decision, item.final_value, item.decided_by, item.decided_at = decision, value, reviewer, at


def _check_reviewer(reviewer, organization_id):
    if not (selectors.is_official(reviewer) and reviewer.organization_id == organization_id):
        raise PermissionDenied(gettext("Only officials of the batch's organization review its items."))

