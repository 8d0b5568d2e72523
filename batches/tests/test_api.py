"""/api/v1/batches/: org-scoped, the API's error format, 404 for anybody else."""

import pytest
from rest_framework.test import APIClient

from batches import services
from batches.models import Batch
from recognition.models import Prediction
from recognition.tests.conftest import sample
from recognition.tests.test_api import assert_error

from .conftest import api_client, digit_files, upload, zip_of

pytestmark = pytest.mark.django_db
LIST = "/api/v1/batches/"


@pytest.fixture
def batch(official):
    return services.create_batch(official, "March cheques", Batch.Kind.DIGIT, digit_files(1, 2))


def test_create_from_files_reports_the_bad_one(official):
    files = [*digit_files(1, 2, 3), upload("notes.txt", b"text")]
    response = api_client(official).post(LIST, {"name": "March", "kind": "digit", "files": files}, format="multipart")
    body = response.json()
    assert response.status_code == 201, body
    assert body["counts"] == {"total": 3, "pending": 3, "needs_review": 0, "auto_accepted": 0, "accepted": 0, "corrected": 0, "rejected": 0, "failed": 0}
    assert body["status"] == "reading" and [s["name"] for s in body["skipped"]] == ["notes.txt"]
    assert [item["original_name"] for item in body["items"]] == ["canvas_1.png", "canvas_2.png", "canvas_3.png"]
    assert Prediction.objects.filter(source=Prediction.Source.API).count() == 3


def test_create_from_a_zip(official):
    archive = zip_of({"a.png": sample("canvas_1.png")})
    response = api_client(official).post(LIST, {"name": "Zip", "kind": "number", "archive": archive}, format="multipart")
    assert response.status_code == 201 and response.json()["counts"]["total"] == 1


def test_a_zip_bomb_is_a_413_in_the_error_format(official, settings):
    settings.RECOGNITION_MAX_UPLOAD_BYTES = 50_000
    archive = zip_of({"bomb.png": b"\0" * 1_000_000})
    response = api_client(official).post(LIST, {"name": "Bomb", "kind": "digit", "archive": archive}, format="multipart")
    assert_error(response, 413, code="too_large", field="files", text="in the zip unpacks to")


@pytest.mark.parametrize("data", [{"name": "No files", "kind": "digit"}, {"name": "x", "kind": "cheese"}, {}])
def test_bad_requests_are_400(official, data):
    assert_error(api_client(official).post(LIST, data, format="multipart"), 400)


def test_list_and_retrieve_with_counts_and_items(official, colleague, batch):
    first = batch.items.first().prediction_id
    Prediction.objects.filter(pk=first).update(status="done", digit=1, confidence=0.999)
    for user in (official, colleague):
        client = api_client(user)
        [listed] = client.get(LIST).json()["results"]
        assert listed["id"] == str(batch.pk) and listed["counts"]["auto_accepted"] == 1
        detail = client.get(listed["url"]).json()
        assert detail["counts"] == {"total": 2, "pending": 1, "needs_review": 0, "auto_accepted": 1, "accepted": 0, "corrected": 0, "rejected": 0, "failed": 0}
        assert [(i["state"], i["digits"], i["confidence"]) for i in detail["items"]] == [
            ("auto_accepted", "1", 0.999), ("pending", "", None)
        ]


def test_an_official_of_another_bank_gets_404(outsider, batch):
    client = api_client(outsider)
    assert client.get(LIST).json()["results"] == []
    assert_error(client.get(f"{LIST}{batch.pk}/"), 404)


def test_a_non_official_gets_404_everywhere(plain_user, batch):
    client = api_client(plain_user)
    assert_error(client.get(LIST), 404)
    assert_error(client.get(f"{LIST}{batch.pk}/"), 404)
    assert_error(client.post(LIST, {"name": "x", "kind": "digit", "files": digit_files(1)}, format="multipart"), 404)
    assert Batch.objects.count() == 1


def test_anonymous_gets_401(batch):
    assert_error(APIClient().get(LIST), 401)


def test_the_schema_documents_batches(official):
    schema = api_client(official).get("/api/v1/schema/").content.decode()
    assert "/api/v1/batches/{id}/" in schema and "BatchDetail" in schema
