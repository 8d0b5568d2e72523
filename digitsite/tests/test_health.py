import pytest
from django.urls import reverse

from digitsite.celery import ping

pytestmark = pytest.mark.worker


def test_a_real_worker_on_redis_runs_the_health_task(celery_worker):
    assert ping.delay().get(timeout=10) == "pong"


@pytest.mark.django_db
def test_healthz_reports_database_redis_and_worker(client, celery_worker):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    report = response.json()
    assert report["status"] == "ok"
    assert report["checks"]["database"]["ok"] is True
    assert report["checks"]["redis"]["ok"] is True
    assert report["checks"]["worker"] == {"ok": True, "ms": report["checks"]["worker"]["ms"], "answer": "pong"}
