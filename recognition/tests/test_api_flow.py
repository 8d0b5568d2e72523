"""The API with a real Celery worker on the real Redis: one call with ?wait answers with the digit."""

import io
import threading

import pytest
from PIL import Image

from recognition.models import Prediction

from .conftest import assert_read_left_to_right, number_png
from .test_api import LIST, detail, send

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_prediction_sent_with_wait_is_answered_read(api, celery_worker):
    response = send(api, "scan_3.jpg", QUERY_STRING="wait=10")
    assert response.status_code == 200, response.json()
    answer = response.json()
    assert answer["status"] == "done" and answer["digit"] == 3
    assert len(answer["probabilities"]) == 10 and answer["finished_at"]
    # The outcome came through Redis rather than from the row: it must be what the row holds.
    assert api.get(detail(Prediction.objects.get().pk)).json() == answer


def test_everyone_waiting_on_a_prediction_is_answered(api, celery_worker):
    # Sent without waiting: the reading may or may not be over by the time the waiters ask.
    pk = send(api, "canvas_7.png").json()["id"]
    answers = []

    def wait():
        answers.append(api.get(detail(pk), QUERY_STRING="wait=10"))

    waiters = [threading.Thread(target=wait) for _ in range(3)]
    for waiter in waiters:
        waiter.start()
    for waiter in waiters:
        waiter.join(timeout=15)
    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert {answer.json()["digit"] for answer in answers} == {7}
    assert api.get(detail(pk), QUERY_STRING="wait=10").json()["status"] == "done"


def test_an_image_the_engine_cannot_read_is_answered_failed_with_the_reason(api, celery_worker):
    # A Lab-colour TIFF decodes, so the upload is accepted, but the engine reads only grey and RGB.
    lab = io.BytesIO()
    Image.new("LAB", (60, 60), (50, 0, 0)).save(lab, "TIFF")
    response = send(api, "lab.tif", lab.getvalue(), QUERY_STRING="wait=10")
    assert response.status_code == 200
    answer = response.json()
    assert answer["status"] == "failed" and "colour format" in answer["error"]
    assert api.get(answer["url"]).json() == answer


def send_number(api, **extra):
    image = io.BytesIO(number_png())
    image.name = "number.png"
    return api.post(LIST, {"image": image, "kind": "number"}, format="multipart", **extra)


def test_a_number_sent_with_wait_is_answered_with_its_digits_and_boxes(api, celery_worker):
    response = send_number(api, QUERY_STRING="wait=10")
    assert response.status_code == 200, response.json()
    answer = response.json()
    assert (answer["status"], answer["kind"], answer["digit"], answer["probabilities"]) == ("done", "number", None, None)
    assert_read_left_to_right(answer["digits"], answer["characters"], answer["width"], answer["height"])
    assert isinstance(answer["auto_accept"], bool) and 0 <= answer["confidence"] <= 1
    # The outcome came through Redis rather than from the row: it must be what the row holds.
    assert api.get(detail(answer["id"])).json() == answer


def test_digits_and_numbers_sent_together_are_each_read_as_asked(api, celery_worker):
    # Sent without waiting, so that the worker may take them in one batch.
    ids = [send(api, "scan_3.jpg").json()["id"], send_number(api).json()["id"], send(api, "canvas_7.png").json()["id"]]
    answers = [api.get(detail(pk), QUERY_STRING="wait=10").json() for pk in ids]
    assert [(a["status"], a["kind"], a["digit"]) for a in answers] == [
        ("done", "digit", 3), ("done", "number", None), ("done", "digit", 7)
    ]
    assert answers[1]["digits"] and answers[0]["digits"] == answers[2]["digits"] == ""
