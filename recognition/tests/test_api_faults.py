"""Faults in what the API stands on: long waits, and Redis (cache, broker, notifications) going down.

The Redis these tests stop is a redis-server of their own on a free port, never the one at REDIS_URL.
"""

import socket
import time

import kombu
import pytest
import redis
from django.urls import reverse

from digitsite import settings as site_settings
from digitsite.celery import app as celery_app
from digitsite.stack import free_port
from recognition import notifications, services
from recognition.models import Prediction

from .conftest import sample, upload
from .test_api import LIST, assert_error, detail, send

pytestmark = pytest.mark.django_db


@pytest.fixture
def own_redis(own_redis, settings):
    """The conftest's own_redis, with the cache (throttles), broker and notifications all on it."""
    settings.REDIS_URL = own_redis.url
    settings.CACHES = {"default": {**site_settings.CACHES["default"], "LOCATION": own_redis.url}}
    broker_url = celery_app.conf.CELERY_BROKER_URL
    _repoint_celery(own_redis.url)
    yield own_redis
    _repoint_celery(broker_url)


def _repoint_celery(url):
    celery_app.conf.CELERY_BROKER_URL = url  # the name the app reads settings under
    kombu.pools.reset()  # closes and forgets kombu's connection and producer pools
    celery_app._after_fork()  # so that the app makes new ones, for url, at its next publish


# ?wait= longer than a Redis client's default socket timeout (5 s)

def test_a_wait_longer_than_five_seconds_that_runs_out_answers_202(api):
    started = time.monotonic()
    response = send(api, QUERY_STRING="wait=6")
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "pending" and time.monotonic() - started >= 6
    again = api.get(detail(response.json()["id"]), QUERY_STRING="wait=6")
    assert again.status_code == 202 and again.json()["status"] == "pending"


def test_a_redis_error_during_a_wait_answers_from_the_row(api, monkeypatch):
    pk = send(api).json()["id"]

    def lost(*args, **kwargs):  # the reading ends while the connection to Redis breaks
        Prediction.objects.filter(pk=pk).update(status="done", digit=3, confidence=0.9)
        raise redis.exceptions.ConnectionError("Connection closed by server.")

    monkeypatch.setattr(redis.Redis, "blmove", lost)
    response = api.get(detail(pk), QUERY_STRING="wait=5")
    assert response.status_code == 200 and response.json()["digit"] == 3


# Redis down

def test_api_calls_while_redis_is_down_answer_503_with_retry_after(api, own_redis):
    assert api.get(LIST).status_code == 200
    own_redis.stop()
    started = time.monotonic()
    for response in (api.get(LIST), send(api), api.post("/api/v1/auth/token/", {}, format="json")):
        assert_error(response, 503, code="unavailable")
        assert int(response["Retry-After"]) > 0
    assert time.monotonic() - started < 5  # a dead Redis answers fast
    assert not Prediction.objects.exists()
    own_redis.start()
    assert send(api).status_code == 202


def test_a_redis_that_hangs_answers_503_within_the_read_timeout(api, settings):
    listener = socket.create_server(("127.0.0.1", 0))  # takes connections, never answers
    url = f"redis://127.0.0.1:{listener.getsockname()[1]}/0"
    settings.CACHES = {"default": {**site_settings.CACHES["default"], "LOCATION": url}}
    started = time.monotonic()
    with listener:
        response = api.get(LIST)
    assert_error(response, 503, code="unavailable")
    assert time.monotonic() - started < site_settings.REDIS_TIMEOUT_S + 1


@pytest.mark.django_db(transaction=True)
def test_a_web_upload_while_redis_is_down_is_kept_and_queued_later(client, user, own_redis, settings):
    client.force_login(user)
    own_redis.stop()
    response = client.post(reverse("upload"), {"images": [upload("three.jpg", sample("scan_3.jpg"))],
                                                "source": "upload"})
    prediction = Prediction.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("prediction-detail", args=[prediction.pk])
    assert prediction.status == Prediction.Status.PENDING  # not lost, not failed: waiting for the broker
    own_redis.start()
    settings.RECOGNITION_REQUEUE_AFTER_S = 0
    services.sweep_stale_predictions()  # what celery beat runs every RECOGNITION_SWEEP_EVERY_S
    queued = redis.Redis.from_url(own_redis.url).lrange("celery", 0, -1)
    assert len(queued) == 1 and str(prediction.pk).encode() in queued[0]


def test_a_web_page_that_needs_redis_while_it_is_down_answers_a_plain_503(client, settings):
    settings.CACHES = {"default": {**site_settings.CACHES["default"],
                                   "LOCATION": f"redis://127.0.0.1:{free_port()}/0"}}
    # The log-in form counts attempts per address in the cache.
    response = client.post(reverse("login"), {"username": "ada@example.com", "password": "x"})
    assert response.status_code == 503 and "Retry-After" in response
    assert "temporarily unavailable" in response.content.decode()


def test_ending_a_prediction_while_redis_is_down_does_not_raise(settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing answers there
    notifications._client.cache_clear()
    notifications.announce_ended({"0" * 32: {"status": "failed", "error": "x"}})
    notifications._client.cache_clear()
