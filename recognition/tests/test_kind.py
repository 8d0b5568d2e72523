"""A prediction's kind: one digit (the default, as before kinds existed) or a number, through the service,
the pages and the API."""

import base64
import io
import re

import pytest
from django.urls import reverse

from ml.inference import get_recognizer
from ml.strings import get_string_reader
from recognition import services
from recognition.models import Prediction

from .conftest import assert_read_left_to_right, number_png, sample, stored_files
from .test_api import LIST, assert_error, detail

pytestmark = pytest.mark.django_db

NUMBER = Prediction.Kind.NUMBER
# A number as the reader leaves it: three digits with their boxes in the 360 × 120 image.
READ_107 = {
    "status": Prediction.Status.DONE, "digits": "107", "confidence": 0.97, "auto_accept": True,
    "model_version": "", "timings": {"total": 5.9},
    "characters": [
        {"digit": "1", "box": [36, 20, 10, 81], "confidence": 0.999},
        {"digit": "0", "box": [100, 20, 61, 81], "confidence": 0.998},
        {"digit": "7", "box": [220, 21, 65, 82], "confidence": 0.97},
    ],
}


def create(user, name="scan_3.jpg", data=None, **kinds):
    checked = services.check_image(name, sample(name) if data is None else data)
    return services.create_prediction(user, checked, **kinds)


def create_ended(user, outcome, **kinds):
    """A prediction as if read: its outcome stored as the reading would."""
    prediction = create(user, "number.png", number_png(), **kinds)
    Prediction.objects.filter(pk=prediction.pk).update(**outcome)
    return Prediction.objects.get(pk=prediction.pk)


def post(api, data, **fields):
    image = io.BytesIO(data)
    image.name = "image.png"
    return api.post(LIST, {"image": image, **fields}, format="multipart")


# The service

def test_a_number_is_read_left_to_right_with_each_digits_box(user):
    prediction = create(user, "number.png", number_png(), kind=NUMBER)
    assert prediction.kind == NUMBER
    services.run_predictions([prediction.pk])
    prediction.refresh_from_db()
    assert prediction.status == Prediction.Status.DONE, prediction.error
    assert_read_left_to_right(prediction.digits, prediction.characters, prediction.width, prediction.height)
    assert 0 <= prediction.confidence <= 1 and isinstance(prediction.auto_accept, bool)
    assert prediction.digit is None and prediction.probabilities is None  # the single-digit fields stay empty
    assert prediction.timings["total"] > 0


def test_one_run_reads_each_kind_with_its_own_engine_in_one_call(user, monkeypatch):
    digit, number = create(user), create(user, "number.png", number_png(), kind=NUMBER)
    calls = []
    for engine, name in ((get_recognizer(), "digit"), (get_string_reader(), "number")):
        real_read = engine.read
        monkeypatch.setattr(engine, "read", lambda images, real_read=real_read, name=name:
                            calls.append((name, len(images))) or real_read(images))
    assert {p.pk for p in services.run_predictions([digit.pk, number.pk])} == {digit.pk, number.pk}
    assert sorted(calls) == [("digit", 1), ("number", 1)]
    digit.refresh_from_db()
    number.refresh_from_db()
    assert (digit.kind, digit.digit, digit.digits, digit.characters) == ("digit", 3, "", None)
    assert number.digit is None and number.digits


def test_a_number_image_the_reader_refuses_fails_that_prediction_alone(user):
    good, bad = (create(user, "number.png", number_png(), kind=NUMBER) for _ in range(2))
    with open(bad.image.path, "wb") as broken:  # it went bad in storage after the upload was checked
        broken.write(b"garbage")
    services.run_predictions([good.pk, bad.pk])
    assert Prediction.objects.get(pk=good.pk).status == Prediction.Status.DONE
    failed = Prediction.objects.get(pk=bad.pk)
    assert failed.status == Prediction.Status.FAILED and "not an image" in failed.error


# Pages

def test_old_predictions_and_numbers_both_render(owner_client, user):
    old = create(user)  # no kind given, as before kinds existed
    Prediction.objects.filter(pk=old.pk).update(
        status=Prediction.Status.DONE, digit=6, confidence=0.97, probabilities=[0.003] * 6 + [0.97] + [0.003] * 3
    )
    number = create_ended(user, READ_107, kind=NUMBER)
    blank = create_ended(user, {"status": Prediction.Status.DONE, "digits": "", "characters": [], "confidence": 0.0,
                                "auto_accept": False}, kind=NUMBER)
    assert Prediction.objects.get(pk=old.pk).kind == Prediction.Kind.DIGIT

    page = owner_client.get(reverse("prediction-detail", args=[old.pk])).content.decode()
    assert '<span class="digit" id="digit">6</span>' in page and 'class="boxes"' not in page

    page = owner_client.get(reverse("prediction-detail", args=[number.pk])).content.decode()
    assert '<span class="digits" id="digits">107</span>' in page
    assert "97% sure" in page and "accepted without checking" in page
    figure = page.split('<figure', 1)[1].split("</figure>", 1)[0]
    assert 'viewBox="0 0 360 120"' in figure
    assert re.findall(r'<svg class="box" x="(\d+)" y="(\d+)" width="(\d+)" height="(\d+)"', figure) == [
        tuple(str(v) for v in c["box"]) for c in READ_107["characters"]
    ]
    assert "0: probability 0.998" in figure

    panel = owner_client.get(reverse("prediction-panel", args=[number.pk])).content.decode()
    assert 'id="boxes-overlay"' in panel and panel.count('class="bar top"') == 3
    assert "No digits found" in owner_client.get(reverse("prediction-detail", args=[blank.pk])).content.decode()

    history = owner_client.get(reverse("history")).content.decode()
    assert '<span class="history-digit">107</span>' in history
    assert '<span class="history-digit">6</span>' in history
    assert "No digits found" in history


def test_a_number_not_sure_enough_says_so(owner_client, user):
    number = create_ended(user, {**READ_107, "confidence": 0.41, "auto_accept": False}, kind=NUMBER)
    page = owner_client.get(reverse("prediction-detail", args=[number.pk])).content.decode()
    assert "Not sure enough to be accepted without checking" in page
    assert "not sure" in owner_client.get(reverse("history")).content.decode()


def test_history_filters_by_digit_and_kind(owner_client, user):
    three = create_ended(user, {"status": Prediction.Status.DONE, "digit": 3, "confidence": 0.99})
    number = create_ended(user, READ_107, kind=NUMBER)

    def listed(**filters):
        return [p.pk for p in owner_client.get(reverse("history"), filters).context["predictions"]]

    assert listed(digit=3) == [three.pk]
    assert listed(kind="number") == [number.pk]
    assert listed(kind="digit") == [three.pk]
    assert sorted(listed()) == sorted([three.pk, number.pk])


def test_the_upload_page_offers_the_kind_and_sends_it(owner_client):
    page = owner_client.get(reverse("upload")).content.decode()
    assert "A number (several digits)" in page and "One digit" in page
    image = io.BytesIO(number_png())
    image.name = "number.png"
    response = owner_client.post(reverse("upload"), {"images": [image], "kind": "number", "source": "upload"})
    prediction = Prediction.objects.get()
    assert response.status_code == 302 and prediction.kind == NUMBER


def test_a_drawing_without_a_kind_is_one_digit(owner_client):
    image = io.BytesIO(sample("canvas_7.png"))
    image.name = "drawing.png"
    owner_client.post(reverse("upload"), {"images": [image], "source": "drawing"})
    assert Prediction.objects.get().kind == Prediction.Kind.DIGIT


def test_the_pages_refuse_an_unknown_kind(owner_client, media_root):
    for source, heading in (("upload", "<h1>Upload images</h1>"), ("drawing", "<h1>Draw a digit or a number</h1>")):
        image = io.BytesIO(number_png())
        image.name = "number.png"
        response = owner_client.post(reverse("upload"), {"images": [image], "kind": "letters", "source": source})
        page = response.content.decode()
        assert response.status_code == 400 and heading in page
        assert "Select a valid choice. letters is not one of the available choices." in page
    assert not Prediction.objects.exists() and stored_files(media_root) == []


# The API

def test_the_api_reads_one_digit_unless_asked_for_a_number(api):
    answer = post(api, sample("scan_3.jpg")).json()
    assert answer["kind"] == "digit" and answer["digits"] == "" and answer["characters"] is None
    # Every field clients had before kinds is still there.
    assert {"id", "url", "status", "digit", "confidence", "probabilities", "model_version", "timings", "error",
            "source", "original_name", "width", "height", "image_url", "created_at", "finished_at"} <= set(answer)

    response = post(api, number_png(), kind="number")
    assert response.status_code == 202 and response.json()["kind"] == "number"
    encoded = {"image": base64.b64encode(number_png()).decode(), "kind": "number"}
    assert api.post(LIST, encoded, format="json").json()["kind"] == "number"


def test_the_api_lists_both_kinds_and_filters_by_kind(api, user):
    three = create_ended(user, {"status": Prediction.Status.DONE, "digit": 3, "confidence": 0.99})
    number = create_ended(user, READ_107, kind=NUMBER)
    listed = {p["id"]: p for p in api.get(LIST).json()["results"]}
    assert listed[str(number.pk)]["digits"] == "107"
    assert listed[str(number.pk)]["characters"] == READ_107["characters"]
    assert listed[str(number.pk)]["auto_accept"] is True
    assert listed[str(three.pk)]["kind"] == "digit" and listed[str(three.pk)]["digit"] == 3
    assert [p["id"] for p in api.get(LIST, {"kind": "number"}).json()["results"]] == [str(number.pk)]
    assert [p["id"] for p in api.get(LIST, {"digit": 3}).json()["results"]] == [str(three.pk)]
    assert api.get(detail(number.pk)).json()["characters"] == READ_107["characters"]


# (An empty form field is a field not sent, as everywhere in forms: one digit.)
@pytest.mark.parametrize("kind", ["letters", "Number", "1"])
def test_an_unknown_kind_is_a_400(api, media_root, kind):
    assert_error(post(api, number_png(), kind=kind), 400, code="invalid_choice", field="kind")
    assert not Prediction.objects.exists() and stored_files(media_root) == []


def test_an_unknown_kind_in_json_is_a_400(api, media_root):
    body = {"image": base64.b64encode(number_png()).decode(), "kind": ["number"]}
    assert_error(api.post(LIST, body, format="json"), 400, field="kind")
    assert_error(api.get(LIST, {"kind": "letters"}), 400, field="kind")
    assert not Prediction.objects.exists()


@pytest.mark.parametrize("confidence, shown", [(1.0, 100), (0.99954, 99.9), (0.9955, 99.5), (0.57, 57), (0.0, 0)])
def test_confidence_is_shown_rounded_down_so_it_never_claims_more(confidence, shown):
    assert Prediction(confidence=confidence).confidence_percent == shown
