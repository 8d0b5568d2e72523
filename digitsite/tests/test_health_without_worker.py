import pytest
from django.urls import reverse


@pytest.mark.django_db
def test_healthz_says_503_when_no_worker_answers(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    report = response.json()
    assert report["status"] == "error"
    assert report["checks"]["database"]["ok"] is True
    assert report["checks"]["worker"]["ok"] is False
    assert "no worker answered" in report["checks"]["worker"]["error"]


@pytest.mark.django_db
def test_healthz_says_503_when_redis_is_down(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    report = client.get(reverse("healthz")).json()
    assert report["checks"]["redis"]["ok"] is False
    assert report["checks"]["worker"]["ok"] is False
