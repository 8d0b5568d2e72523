"""The result panel's long-poll: held until the reading ends (the Redis notification), pending on timeout."""

import threading
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from recognition import notifications, services
from recognition.models import Prediction

from .conftest import sample

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending(user):
    # Not queued: without a committed transaction on_commit never runs, so no worker reads it here.
    return services.create_prediction(user, services.check_image("seven.png", sample("canvas_7.png")))


def panel(client, prediction, **query):
    return client.get(reverse("prediction-panel", args=[prediction.pk]), query)


def test_the_panel_is_answered_as_soon_as_the_reading_ends(owner_client, pending):
    outcome = {"status": "done", "digit": 3, "confidence": 0.91, "probabilities": [0.01] * 9 + [0.91],
               "model_version": "test", "timings": {"total": 2.5}}
    # Only announced, the row left pending: what the page shows can have come from the notification alone.
    announcer = threading.Timer(0.4, notifications.announce_ended, [{pending.pk: outcome}])
    started = time.monotonic()
    announcer.start()
    response = panel(owner_client, pending, wait=5)
    waited = time.monotonic() - started
    announcer.join()
    assert response.status_code == 200
    content = response.content.decode()
    assert 'data-status="done"' in content and '<span class="digit" id="digit">3</span>' in content
    assert 0.35 < waited < 3


def test_a_wait_that_runs_out_answers_pending(owner_client, pending):
    started = time.monotonic()
    response = panel(owner_client, pending, wait=0.5)
    assert time.monotonic() - started >= 0.45
    assert response.status_code == 200 and 'data-status="pending"' in response.content.decode()


def test_a_longer_wait_is_capped(owner_client, pending, settings):
    settings.RECOGNITION_MAX_WAIT_S = 0.3
    started = time.monotonic()
    response = panel(owner_client, pending, wait=60)
    assert time.monotonic() - started < 3
    assert 'data-status="pending"' in response.content.decode()


@pytest.mark.parametrize("wait", ["abc", "-1"])
def test_a_bad_wait_is_a_400(owner_client, pending, wait):
    assert panel(owner_client, pending, wait=wait).status_code == 400


def test_another_users_prediction_is_404_without_waiting(client, other_user, pending):
    client.force_login(other_user)
    started = time.monotonic()
    assert panel(client, pending, wait=5).status_code == 404
    assert time.monotonic() - started < 1


def test_without_javascript_a_pending_result_reloads_itself(owner_client, pending):
    page = owner_client.get(reverse("prediction-detail", args=[pending.pk])).content.decode()
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in page
    assert "Reload to see the answer" in page
    services.fail_prediction(pending.pk, "Unreadable.")
    page = owner_client.get(reverse("prediction-detail", args=[pending.pk])).content.decode()
    assert 'http-equiv="refresh"' not in page and "Unreadable." in page


def test_the_drawing_page_sends_with_fetch_and_gets_the_addresses(owner_client, user):
    drawing = SimpleUploadedFile("drawing.png", sample("canvas_7.png"), content_type="image/png")
    response = owner_client.post(reverse("upload"), {"images": [drawing], "source": "drawing"},
                                 headers={"Accept": "application/json"})
    assert response.status_code == 201
    prediction = Prediction.objects.get(owner=user)
    assert response.json() == {"predictions": [{
        "id": str(prediction.pk), "url": reverse("prediction-detail", args=[prediction.pk]),
        "panel_url": reverse("prediction-panel", args=[prediction.pk]),
    }], "refused": []}


def test_a_form_post_still_opens_the_result_page(owner_client, user):
    drawing = SimpleUploadedFile("drawing.png", sample("canvas_7.png"), content_type="image/png")
    response = owner_client.post(reverse("upload"), {"images": [drawing], "source": "drawing"},
                                 headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert response.status_code == 302
    assert response["Location"] == reverse("prediction-detail", args=[Prediction.objects.get(owner=user).pk])
