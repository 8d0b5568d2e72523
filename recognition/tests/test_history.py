import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from recognition import services
from recognition.models import Prediction

from .conftest import sample

pytestmark = pytest.mark.django_db


def make_predictions(user, count, **fields):
    checked = services.check_image("scan.jpg", sample("scan_3.jpg"))
    created = [services.create_prediction(user, checked) for _ in range(count)]
    Prediction.objects.filter(pk__in=[p.pk for p in created]).update(**fields)
    return created


def listed_ids(response):
    return [str(p.pk) for p in response.context["predictions"]]


def test_newest_first_and_paginated(owner_client, user):
    created = make_predictions(user, 25)
    first = owner_client.get(reverse("history"))
    assert first.context["paginator"].count == 25
    assert len(listed_ids(first)) == 20
    assert listed_ids(first)[0] == str(created[-1].pk)
    second = owner_client.get(reverse("history"), {"page": 2})
    assert len(listed_ids(second)) == 5
    assert listed_ids(second)[-1] == str(created[0].pk)
    assert "Page 1 of 2" in first.content.decode()


def test_filters_by_digit_status_and_date(owner_client, user):
    threes = make_predictions(user, 2, status=Prediction.Status.DONE, digit=3, confidence=0.99)
    fives = make_predictions(user, 1, status=Prediction.Status.DONE, digit=5, confidence=0.99)
    failed = make_predictions(user, 1, status=Prediction.Status.FAILED, error="Broken")
    old = make_predictions(user, 1, status=Prediction.Status.DONE, digit=3, confidence=0.99)
    Prediction.objects.filter(pk=old[0].pk).update(created_at=timezone.now() - timedelta(days=40))

    by_digit = owner_client.get(reverse("history"), {"digit": 3})
    assert sorted(listed_ids(by_digit)) == sorted(str(p.pk) for p in threes + old)
    by_status = owner_client.get(reverse("history"), {"status": "failed"})
    assert listed_ids(by_status) == [str(failed[0].pk)]
    recent = (timezone.now() - timedelta(days=7)).date().isoformat()
    by_date = owner_client.get(reverse("history"), {"digit": 3, "date_from": recent})
    assert sorted(listed_ids(by_date)) == sorted(str(p.pk) for p in threes)
    assert str(fives[0].pk) not in listed_ids(by_date)


def test_filters_keep_their_values_across_pages(owner_client, user):
    make_predictions(user, 22, status=Prediction.Status.DONE, digit=8, confidence=0.9)
    page = owner_client.get(reverse("history"), {"digit": 8}).content.decode()
    assert "?digit=8&amp;page=2" in page


def test_invalid_filters_get_a_message_by_their_field_and_the_valid_ones_still_apply(owner_client, user):
    threes = make_predictions(user, 1, status=Prediction.Status.DONE, digit=3, confidence=0.99)
    make_predictions(user, 1, status=Prediction.Status.FAILED, error="Broken")
    filters = {"digit": "abc", "date_from": "notadate", "status": "done"}
    response = owner_client.get(reverse("history"), filters)
    assert response.status_code == 200
    assert listed_ids(response) == [str(threes[0].pk)]  # the status filter still applies
    page = response.content.decode()
    assert "Choose a digit from 0 to 9." in page and "Enter a date as YYYY-MM-DD." in page
    assert "Some filters could not be used and are left out" in page
    assert 'aria-describedby="id_digit-error"' in page and '<p class="error" id="id_digit-error">' in page


def test_a_date_range_that_ends_before_it_starts_is_explained(owner_client, user):
    make_predictions(user, 2)
    today = timezone.now().date()
    response = owner_client.get(reverse("history"), {
        "date_from": today.isoformat(), "date_to": (today - timedelta(days=3)).isoformat(),
    })
    assert "This date is before the “From” date." in response.content.decode()
    assert len(listed_ids(response)) == 2  # the "To" date is left out, so today's readings show


def test_valid_filters_show_no_message(owner_client, user):
    make_predictions(user, 1)
    page = owner_client.get(reverse("history"), {"digit": 3, "date_from": "2020-01-01"}).content.decode()
    assert "could not be used" not in page and 'class="error"' not in page


def test_history_shows_thumbnails_and_states(owner_client, user):
    done = make_predictions(user, 1, status=Prediction.Status.DONE, digit=6, confidence=0.55)[0]
    page = owner_client.get(reverse("history")).content.decode()
    assert reverse("prediction-thumbnail", args=[done.pk]) in page
    assert "not sure" in page


def test_a_thumbnail_is_made_when_first_shown(owner_client, user, media_root):
    prediction = make_predictions(user, 1)[0]
    response = owner_client.get(reverse("prediction-thumbnail", args=[prediction.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    thumbnail = Image.open(io.BytesIO(b"".join(response.streaming_content)))
    assert max(thumbnail.size) <= services.THUMBNAIL_SIDE
    assert Prediction.objects.get(pk=prediction.pk).thumbnail
