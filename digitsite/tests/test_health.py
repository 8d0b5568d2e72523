import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import make_user
from digitsite.celery import ping
from digitsite.tests.production import wait_until
from recognition.models import Heartbeat, Prediction
from recognition.services import SWEEPER
from recognition.tasks import sweep_stale_predictions

pytestmark = pytest.mark.worker


# In the same group as the other worker test: pytest-django runs transactional tests after the others,
# and a worker fixture left alive between the groups would take other modules' tasks.
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_on_redis_runs_the_health_task(celery_worker):
    assert ping.delay().get(timeout=10) == "pong"


@pytest.mark.django_db(transaction=True)  # the worker thread reads and writes the same rows
def test_healthz_reports_database_redis_worker_and_sweeper(client, celery_worker):
    sweep_stale_predictions.delay()  # what the sweeper (celery beat) sends as it starts
    wait_until(lambda: Heartbeat.objects.filter(name=SWEEPER).exists(), 10, "the sweep recorded no run")
    response = client.get(reverse("healthz"))
    report = response.json()
    assert response.status_code == 200, report
    assert report["status"] == "ok"
    assert report["checks"]["database"]["ok"] is True
    assert report["checks"]["redis"]["ok"] is True
    assert report["checks"]["worker"] == {"ok": True, "ms": report["checks"]["worker"]["ms"], "answer": "pong"}
    assert report["checks"]["recognition"]["ok"] is True
    assert report["checks"]["sweeper"]["ok"] is True
    assert report["checks"]["sweeper"]["age_s"] < 30


def make_prediction(created_at, **fields):
    prediction = Prediction.objects.create(owner=make_user(email=f"{created_at.timestamp()}@example.com"),
                                           image="predictions/x.png", width=28, height=28, **fields)
    Prediction.objects.filter(pk=prediction.pk).update(created_at=created_at)
    return prediction


@pytest.mark.django_db
def test_healthz_notices_workers_that_take_no_work(client, settings):
    settings.RECOGNITION_STALLED_AFTER_S = 60
    now = timezone.now()
    make_prediction(now - timedelta(seconds=90))  # waiting, and nothing ended for a minute
    report = client.get(reverse("healthz")).json()
    assert report["checks"]["recognition"]["ok"] is False
    assert "1 prediction(s) have waited over 60 s" in report["checks"]["recognition"]["error"]

    # A long queue that is moving is not a stall.
    make_prediction(now - timedelta(seconds=120), status=Prediction.Status.DONE, finished_at=now)
    assert client.get(reverse("healthz")).json()["checks"]["recognition"]["ok"] is True


@pytest.mark.django_db
def test_healthz_reports_a_sweeper_that_stopped(client, settings):
    settings.RECOGNITION_SWEEP_EVERY_S = 30
    report = client.get(reverse("healthz")).json()
    assert report["status"] == "error"
    assert "the sweeper has not run yet" in report["checks"]["sweeper"]["error"]

    Heartbeat.objects.create(name=SWEEPER, at=timezone.now() - timedelta(seconds=100))
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    # 100 s and the few the report took (with no worker, its ping waits for an answer).
    assert re.search(r"the sweeper last ran 10\d s ago; it runs every 30 s", response.json()["checks"]["sweeper"]["error"])
