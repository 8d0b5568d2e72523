"""Reads: every query is scoped to the user who owns the predictions.

A batch's items are predictions too, but they belong to the organization's batch: they are reached (and
deleted) through batches and review only, never through the sender's own history, pages or API."""

from datetime import timedelta

from django.shortcuts import get_object_or_404
from django.utils import timezone

from .models import Heartbeat, Prediction
from .notifications import wait_for_end


def predictions_of(user, *, digit=None, kind=None, status=None, date_from=None, date_to=None):
    queryset = _own(user)
    if digit is not None:  # a single digit read; numbers keep theirs in ``digits``
        queryset = queryset.filter(digit=digit)
    if kind:
        queryset = queryset.filter(kind=kind)
    if status:
        queryset = queryset.filter(status=status)
    if date_from:
        queryset = queryset.filter(created_at__date__gte=date_from)
    if date_to:
        queryset = queryset.filter(created_at__date__lte=date_to)
    return queryset


def prediction_of(user, pk):
    """The user's own prediction, or 404: someone else's is as good as missing."""
    return get_object_or_404(_own(user), pk=pk)


def _own(user):
    return Prediction.objects.filter(owner=user, batch_item__isnull=True)


def wait_for_prediction(prediction, timeout):
    """The prediction once it has ended, or as it stands after ``timeout`` seconds."""
    if prediction.has_ended or timeout <= 0:
        return prediction
    outcome = wait_for_end(prediction.pk, timeout)
    if outcome is None:  # still pending, or its announcement was lost: the row tells
        prediction.refresh_from_db()
        return prediction
    # The outcome as the ending stored it, so the row need not be read again.
    for name, value in outcome.items():
        field = Prediction._meta.get_field(name)
        setattr(prediction, field.attname, field.to_python(value))
    return prediction


def prediction_by_idempotency_key(user, key):
    return Prediction.objects.filter(owner=user, idempotency_key=key).first()


def stalled_predictions(after_seconds):
    """How many predictions have waited over ``after_seconds`` while none ended: 0 when the
    workers are taking work (a long queue that is moving is not a stall)."""
    since = timezone.now() - timedelta(seconds=after_seconds)
    waiting = Prediction.objects.filter(status=Prediction.Status.PENDING, created_at__lt=since)
    if Prediction.objects.filter(finished_at__gte=since).exists():
        return 0
    return waiting.count()


def last_heartbeat(name):
    """When the periodic job ``name`` last ran, or None."""
    return Heartbeat.objects.filter(name=name).values_list("at", flat=True).first()
