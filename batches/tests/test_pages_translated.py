"""Every page an official uses renders whole in Tamil and Hindi: no placeholder left, no English menu."""

from unittest import mock

import pytest
from django.urls import reverse
from django.utils import translation

from batches import services
from recognition import services as recognition_services
from recognition.models import Prediction

from .conftest import digit_files, read_batch

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("code", ["ta", "hi"])
def test_the_officials_pages_render_in_each_language(official_client, official, code):
    batch, items = read_batch(official, [("500", 0.5), ("300", 0.3), ("999", 0.999), None])
    with mock.patch("recognition.services.enqueue"):
        images = [recognition_services.check_upload(f) for f in digit_files(1, 2, 3)]
        number, failed, _pending = recognition_services.create_predictions(official, images, kind="number")
    Prediction.objects.filter(pk=number.pk).update(
        status="done", digits="12", confidence=0.93, auto_accept=True,
        characters=[{"digit": "1", "box": [0, 0, 5, 5], "confidence": 0.9}])
    Prediction.objects.filter(pk=failed.pk).update(status="failed", error=recognition_services.STOPPED_THE_READER)
    services.claim(official, items[1])
    official_client.cookies["django_language"] = code
    with translation.override(code):
        history, review = translation.gettext("History"), translation.gettext("Review")
        reason = translation.gettext(recognition_services.STOPPED_THE_READER)
    assert history != "History" and review != "Review" and reason != recognition_services.STOPPED_THE_READER

    pages = [reverse("home"), reverse("draw"), reverse("upload"), reverse("history"), reverse("profile"),
             reverse("history") + "?digit=abc", reverse("prediction-detail", args=[number.pk]),
             reverse("prediction-detail", args=[failed.pk]), reverse("batch-list"), reverse("batch-create"),
             reverse("batch-detail", args=[batch.pk]), reverse("review-queue"),
             reverse("review-item", args=[items[0].pk]), reverse("organization"),
             reverse("review-accept-above") + f"?batch={batch.pk}&confidence=40"]
    for path in pages:
        response = official_client.get(path)
        page = response.content.decode()
        assert response.status_code == 200, path
        assert f'<html lang="{code}">' in page and f">{history}<" in page and f">{review}<" in page, path
        assert ">History<" not in page and "%(" not in page, path
    assert reason in official_client.get(reverse("prediction-detail", args=[failed.pk])).content.decode()
