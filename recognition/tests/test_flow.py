"""The whole flow with a real Celery worker on the real Redis: upload, read, see it."""

import pytest
from django.urls import reverse

from recognition.models import Prediction

from .conftest import assert_read_left_to_right, blank_png, number_png, sample, upload, wait_until_done

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def post_images(client, *files, source="upload", **fields):
    return client.post(reverse("upload"), {"images": list(files), "source": source, **fields})


def test_a_drawing_is_read_and_shown_with_all_probabilities(owner_client, celery_worker):
    response = post_images(owner_client, upload("drawing.png", sample("canvas_7.png")), source="drawing")
    prediction = Prediction.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("prediction-detail", args=[prediction.pk])
    assert prediction.source == Prediction.Source.DRAWING

    done = wait_until_done(prediction.pk)
    assert done.status == Prediction.Status.DONE
    assert done.digit == 7
    assert len(done.probabilities) == 10 and abs(sum(done.probabilities) - 1) < 1e-3
    assert done.confidence == max(done.probabilities)
    assert done.model_version
    assert {"decode", "preprocess", "infer", "total"} <= set(done.timings)

    page = owner_client.get(response["Location"]).content.decode()
    assert '<span class="digit" id="digit">7</span>' in page
    assert page.count('class="bar') >= 10
    history = owner_client.get(reverse("history")).content.decode()
    assert reverse("prediction-detail", args=[prediction.pk]) in history


def test_several_scanned_digits_in_one_upload(owner_client, celery_worker):
    files = [upload(f"scan_{d}.jpg", sample(f"scan_{d}.jpg")) for d in (3, 5, 8)]
    response = post_images(owner_client, *files)
    assert response.status_code == 302 and response["Location"] == reverse("history")
    read = {p.original_name: wait_until_done(p.pk).digit for p in Prediction.objects.all()}
    assert read == {"scan_3.jpg": 3, "scan_5.jpg": 5, "scan_8.jpg": 8}


def test_a_blank_drawing_gives_no_digit_found(owner_client, celery_worker):
    post_images(owner_client, upload("drawing.png", blank_png()), source="drawing")
    done = wait_until_done(Prediction.objects.get().pk)
    assert done.status == Prediction.Status.DONE and done.digit is None
    page = owner_client.get(reverse("prediction-detail", args=[done.pk])).content.decode()
    assert "No digit found" in page


def test_the_result_panel_fills_in_when_the_task_is_done(owner_client, celery_worker):
    post_images(owner_client, upload("scan.jpg", sample("scan_4.jpg")))
    prediction = Prediction.objects.get()
    wait_until_done(prediction.pk)
    panel = owner_client.get(reverse("prediction-panel", args=[prediction.pk])).content.decode()
    assert 'data-status="done"' in panel
    assert '<span class="digit" id="digit">4</span>' in panel


@pytest.mark.parametrize("source", ["upload", "drawing"])
def test_a_number_is_read_and_shown_with_each_digits_box(owner_client, celery_worker, source):
    response = post_images(owner_client, upload("number.png", number_png()), source=source, kind="number")
    prediction = Prediction.objects.get()
    assert (prediction.kind, prediction.source) == (Prediction.Kind.NUMBER, source)

    done = wait_until_done(prediction.pk)
    assert done.status == Prediction.Status.DONE, done.error
    assert_read_left_to_right(done.digits, done.characters, done.width, done.height)
    page = owner_client.get(response["Location"]).content.decode()
    assert f'<span class="digits" id="digits">{done.digits}</span>' in page
    figure = page.split("<figure", 1)[1].split("</figure>", 1)[0]
    assert figure.count('<svg class="box"') == len(done.digits)
    history = owner_client.get(reverse("history")).content.decode()
    assert f'<span class="history-digit">{done.digits}</span>' in history
