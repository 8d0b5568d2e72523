"""The REST API: auth, ownership, pagination, filters, wait, idempotency, throttling, bad input, schema."""

import base64
import io
import subprocess
import sys
from pathlib import Path

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from accounts.services import revoke_api_token
from accounts.tests.factories import PASSWORD
from recognition import services
from recognition.models import Prediction

from .conftest import sample, stored_files
from .test_bad_input import BAD_FILES

pytestmark = pytest.mark.django_db

LIST = "/api/v1/predictions/"


def detail(pk):
    return f"/api/v1/predictions/{pk}/"


def send(api, name="scan_3.jpg", data=None, **extra):
    image = io.BytesIO(sample(name) if data is None else data)
    image.name = name
    return api.post(LIST, {"image": image}, format="multipart", **extra)


def assert_error(response, status, code=None, field=None, text=None):
    body = response.json()
    assert response.status_code == status, body
    assert set(body) == {"status", "code", "message", "errors"} and body["status"] == status
    if code:
        assert body["code"] == code
    if field:
        assert field in body["errors"]
    if text:
        assert text in body["message"]


# Auth

def test_token_for_email_and_password(user):
    client = APIClient()
    response = client.post("/api/v1/auth/token/", {"email": "OWNER@example.com", "password": PASSWORD}, format="json")
    assert response.status_code == 200
    assert response.json()["token"] == Token.objects.get(user=user).key


def test_token_refused_for_a_wrong_password(user):
    response = APIClient().post("/api/v1/auth/token/", {"email": user.email, "password": "nope"}, format="json")
    assert_error(response, 400, code="authorization", text="Unable to log in")


def test_token_requests_are_locked_out_after_repeated_failures(user, settings):
    client = APIClient()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        client.post("/api/v1/auth/token/", {"email": user.email, "password": "nope"}, format="json")
    locked = client.post("/api/v1/auth/token/", {"email": user.email, "password": "nope"}, format="json")
    assert_error(locked, 429, code="locked_out")
    assert int(locked["Retry-After"]) > 0
    again = client.post("/api/v1/auth/token/", {"email": user.email, "password": PASSWORD}, format="json")
    assert again.status_code == 429


@pytest.mark.parametrize("method,path", [("get", LIST), ("post", LIST), ("get", detail("0" * 32))])
def test_every_endpoint_needs_auth(method, path):
    response = getattr(APIClient(), method)(path)
    assert_error(response, 401, code="not_authenticated")


def test_a_revoked_token_stops_working(api, user):
    assert api.get(LIST).status_code == 200
    revoke_api_token(user)
    assert api.get(LIST).status_code == 401


def test_session_auth_works_for_the_browsable_api(client, user):
    client.force_login(user)
    response = client.get(LIST, HTTP_ACCEPT="text/html")
    assert response.status_code == 200 and b"Prediction" in response.content


# Create, retrieve, list, delete

def test_create_answers_202_with_the_object_and_its_url(api):
    response = send(api)
    assert response.status_code == 202
    body = response.json()
    prediction = Prediction.objects.get()
    assert body["id"] == str(prediction.pk) and body["status"] == "pending"
    assert response["Location"] == body["url"] == f"http://testserver{detail(prediction.pk)}"
    assert body["image_url"] == f"http://testserver{detail(prediction.pk)}image/"
    assert prediction.source == Prediction.Source.API
    assert {"digit", "confidence", "probabilities", "model_version", "timings", "created_at"} <= set(body)


def test_create_from_base64_json(api):
    encoded = base64.b64encode(sample("canvas_7.png")).decode()
    response = api.post(LIST, {"image": f"data:image/png;base64,{encoded}", "name": "seven.png"}, format="json")
    assert response.status_code == 202
    assert Prediction.objects.get().original_name == "seven.png"


def test_base64_of_something_that_is_not_an_image_is_a_415(api, media_root):
    encoded = base64.b64encode(b"%PDF-1.7\n%%EOF").decode()
    response = api.post(LIST, {"image": encoded, "name": "scan.pdf"}, format="json")
    assert_error(response, 415, code="unsupported", field="image", text="“scan.pdf”: This file is not an image")
    assert not Prediction.objects.exists() and stored_files(media_root) == []


def test_bad_base64_is_a_400(api):
    assert_error(api.post(LIST, {"image": "%%%not base64"}, format="json"), 400, code="invalid_base64", field="image")


def test_missing_image_is_a_400(api):
    assert_error(api.post(LIST, {}, format="json"), 400, code="required", field="image")


def test_retrieve_and_its_image(api):
    prediction = Prediction.objects.get(pk=send(api).json()["id"])
    services.run_predictions([prediction.pk])
    body = api.get(detail(prediction.pk)).json()
    assert body["status"] == "done" and len(body["probabilities"]) == 10
    image = api.get(detail(prediction.pk) + "image/")
    assert image.status_code == 200 and b"".join(image.streaming_content) == sample("scan_3.jpg")


def test_list_is_paginated_newest_first(api, user):
    checked = services.check_image("a.jpg", sample("scan_3.jpg"))
    created = [services.create_prediction(user, checked) for _ in range(23)]
    first = api.get(LIST).json()
    assert first["count"] == 23 and len(first["results"]) == 20 and first["next"]
    assert first["results"][0]["id"] == str(created[-1].pk)
    second = api.get(first["next"]).json()
    assert len(second["results"]) == 3 and second["results"][-1]["id"] == str(created[0].pk)
    assert len(api.get(LIST, {"page_size": 5}).json()["results"]) == 5


def test_list_filters(api, user):
    checked = services.check_image("a.jpg", sample("scan_3.jpg"))
    three, five, failed = (services.create_prediction(user, checked) for _ in range(3))
    Prediction.objects.filter(pk=three.pk).update(status="done", digit=3, confidence=0.9)
    Prediction.objects.filter(pk=five.pk).update(status="done", digit=5, confidence=0.9)
    Prediction.objects.filter(pk=failed.pk).update(status="failed", error="x")

    def ids(**params):
        return [r["id"] for r in api.get(LIST, params).json()["results"]]

    assert ids(digit=3) == [str(three.pk)]
    assert ids(status="failed") == [str(failed.pk)]
    assert len(ids(date_from="2000-01-01", date_to="2999-12-31")) == 3
    assert ids(date_to="2000-01-01") == []
    assert_error(api.get(LIST, {"digit": 12}), 400, field="digit")


def test_delete_removes_object_and_files(api, media_root):
    pk = send(api).json()["id"]
    services.thumbnail_of(Prediction.objects.get(pk=pk))  # as after a look at the history page
    assert len(stored_files(media_root)) == 2
    assert api.delete(detail(pk)).status_code == 204
    assert not Prediction.objects.exists() and stored_files(media_root) == []
    assert api.get(detail(pk)).status_code == 404


# Other people's objects

def test_other_users_objects_are_404(api, stranger, media_root):
    pk = send(api).json()["id"]
    for path in (detail(pk), detail(pk) + "image/"):
        assert_error(stranger.get(path), 404, code="not_found")
    assert stranger.delete(detail(pk)).status_code == 404
    assert stranger.get(LIST).json()["count"] == 0
    assert Prediction.objects.filter(pk=pk).exists() and len(stored_files(media_root)) == 1


# Wait semantics

def test_wait_that_runs_out_answers_202_still_pending(api):
    response = send(api, QUERY_STRING="wait=0.3")
    assert response.status_code == 202 and response.json()["status"] == "pending"


def test_wait_is_validated(api):
    assert_error(send(api, QUERY_STRING="wait=soon"), 400, field="wait")
    assert not Prediction.objects.exists()


# Idempotency

def test_a_retry_with_the_same_idempotency_key_makes_nothing_new(api, media_root):
    first = send(api, HTTP_IDEMPOTENCY_KEY="cheque-42")
    again = send(api, name="canvas_7.png", HTTP_IDEMPOTENCY_KEY="cheque-42")
    assert first.status_code == 202 and again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    assert again["Idempotent-Replayed"] == "true"
    assert Prediction.objects.count() == 1 and len(stored_files(media_root)) == 1
    other = send(api, HTTP_IDEMPOTENCY_KEY="cheque-43")
    assert other.json()["id"] != first.json()["id"]


def test_the_same_key_from_another_user_is_another_prediction(api, stranger):
    mine = send(api, HTTP_IDEMPOTENCY_KEY="k").json()["id"]
    theirs = send(stranger, HTTP_IDEMPOTENCY_KEY="k").json()["id"]
    assert mine != theirs


def test_a_racing_duplicate_key_returns_the_first_prediction(user, media_root):
    checked = services.check_image("a.jpg", sample("scan_3.jpg"))
    first = services.create_prediction(user, checked, idempotency_key="race")
    second = services.create_prediction(user, checked, idempotency_key="race")
    assert second.pk == first.pk
    assert Prediction.objects.count() == 1 and len(stored_files(media_root)) == 1


def test_an_overlong_idempotency_key_is_a_400(api):
    assert_error(send(api, HTTP_IDEMPOTENCY_KEY="k" * 256), 400, field="Idempotency-Key")


# Bad input: the same checks as the web form, with 400/413/415

@pytest.mark.parametrize("case", BAD_FILES, ids=list(BAD_FILES))
def test_bad_images_are_refused_with_a_clear_message(api, media_root, case):
    name, data, message = BAD_FILES[case]
    response = send(api, name=name, data=data)
    expected = 415 if message == "not an image we can read" else 400
    assert_error(response, expected, field="image", text=message)
    assert not Prediction.objects.exists() and stored_files(media_root) == []


def test_an_image_over_the_limit_is_a_413(api, settings, media_root):
    settings.RECOGNITION_MAX_UPLOAD_BYTES = 1024
    assert_error(send(api), 413, code="too_large", field="image")
    assert stored_files(media_root) == []


# Throttling

@pytest.fixture
def throttle_rates(monkeypatch):
    """Set rates for one test (the root conftest gives each test a fresh cache)."""

    def set_rates(**rates):
        # DRF reads the rates once, into the class; set them where it looks.
        monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)

    return set_rates


def test_users_are_throttled_with_retry_after(api, throttle_rates):
    throttle_rates(anon="100/min", user="3/min")
    for _ in range(3):
        assert api.get(LIST).status_code == 200
    response = api.get(LIST)
    assert_error(response, 429, code="throttled")
    assert 0 < int(response["Retry-After"]) <= 60


def test_anonymous_clients_are_throttled_per_ip(throttle_rates):
    throttle_rates(anon="2/min", user="100/min")
    client = APIClient()
    for _ in range(2):
        client.post("/api/v1/auth/token/", {}, format="json")
    response = client.post("/api/v1/auth/token/", {}, format="json")
    assert_error(response, 429, code="throttled")
    assert "Retry-After" in response


# Schema and docs

def test_schema_generates_without_warnings():
    result = subprocess.run(
        [sys.executable, "manage.py", "spectacular", "--fail-on-warn", "--validate", "--file", "/dev/null"],
        cwd=Path(__file__).resolve().parents[2], capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_schema_and_docs_are_served_offline(client):
    schema = client.get("/api/v1/schema/")
    assert schema.status_code == 200 and b"/api/v1/predictions/" in schema.content
    docs = client.get("/api/docs/").content.decode()
    assert "swagger-ui" in docs
    assert "cdn" not in docs.lower() and "https://" not in docs


def test_a_base64_image_over_the_limit_is_a_413(api, settings, media_root):
    settings.RECOGNITION_MAX_UPLOAD_BYTES = 1024
    encoded = base64.b64encode(sample("scan_3.jpg")).decode()
    assert_error(api.post(LIST, {"image": encoded}, format="json"), 413, code="too_large", field="image")
    assert stored_files(media_root) == []
