"""Uploads in S3-compatible object storage (MEDIA_STORAGE=s3), with moto standing in for the store:
every path that touches files works there, objects are private, and files reach their owner only."""

import runpy
from pathlib import Path

import boto3
import pytest
from django.core.files.storage import storages
from django.urls import reverse
from moto import mock_aws

from recognition import services
from recognition.models import Prediction

from .conftest import sample, stored_files, upload

pytestmark = pytest.mark.django_db

BUCKET = "digits-uploads"
SETTINGS = Path(__file__).resolve().parents[2] / "digitsite" / "settings.py"
PUBLIC_GRANTEES = ("http://acs.amazonaws.com/groups/global/AllUsers",
                   "http://acs.amazonaws.com/groups/global/AuthenticatedUsers")


@pytest.fixture
def bucket(settings, monkeypatch):
    """The storage that digitsite/settings.py makes from MEDIA_STORAGE=s3, on an empty moto bucket."""
    for name, value in {
        "MEDIA_STORAGE": "s3", "S3_BUCKET": BUCKET, "S3_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        settings.STORAGES = runpy.run_path(str(SETTINGS))["STORAGES"]
        yield client


def keys(client):
    return sorted(item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []))


@pytest.fixture
def prediction(user, bucket):
    prediction = services.create_prediction(user, services.check_image("seven.png", sample("canvas_7.png")))
    services.thumbnail_of(prediction)
    return prediction


def test_the_settings_make_a_private_s3_storage(bucket):
    storage = storages["default"]
    assert type(storage).__name__ == "S3Storage"
    assert storage.default_acl == "private"
    assert storage.querystring_auth is True
    assert storage.querystring_expire <= 300
    assert storage.file_overwrite is False


def test_image_and_thumbnail_are_private_objects_in_the_bucket(bucket, prediction, media_root):
    assert keys(bucket) == sorted([prediction.image.name, prediction.thumbnail.name])
    assert prediction.image.name.startswith(f"predictions/{prediction.owner_id}/")
    stored = bucket.get_object(Bucket=BUCKET, Key=prediction.image.name)["Body"].read()
    assert stored == sample("canvas_7.png")
    for key in keys(bucket):
        grants = bucket.get_object_acl(Bucket=BUCKET, Key=key)["Grants"]
        grantees = [grant["Grantee"].get("URI") for grant in grants]
        assert not set(grantees) & set(PUBLIC_GRANTEES), grantees
    assert stored_files(media_root) == []  # nothing on the local disk


def test_a_url_would_be_signed_and_short_lived(prediction):
    url = prediction.image.url  # not used by the platform; if it ever is, it is no public link
    assert "X-Amz-Signature=" in url
    assert "X-Amz-Expires=60" in url


def test_the_owner_gets_the_files_from_the_bucket(owner_client, api, prediction):
    image = owner_client.get(reverse("prediction-image", args=[prediction.pk]))
    assert image.status_code == 200
    assert b"".join(image.streaming_content) == sample("canvas_7.png")
    assert image["Cache-Control"] == "private, max-age=3600"
    thumbnail = owner_client.get(reverse("prediction-thumbnail", args=[prediction.pk]))
    assert thumbnail.status_code == 200 and b"".join(thumbnail.streaming_content).startswith(b"\x89PNG")
    by_api = api.get(f"/api/v1/predictions/{prediction.pk}/image/")
    assert by_api.status_code == 200 and b"".join(by_api.streaming_content) == sample("canvas_7.png")


@pytest.mark.parametrize("name", ["prediction-image", "prediction-thumbnail"])
def test_another_user_gets_404_for_files_in_the_bucket(client, other_user, prediction, name):
    client.force_login(other_user)
    assert client.get(reverse(name, args=[prediction.pk])).status_code == 404


def test_another_api_user_gets_404_for_the_image(stranger, prediction):
    assert stranger.get(f"/api/v1/predictions/{prediction.pk}/image/").status_code == 404


def test_the_api_stores_the_upload_in_the_bucket(api, bucket, media_root):
    response = api.post("/api/v1/predictions/", {"image": upload("seven.png", sample("canvas_7.png"))},
                        format="multipart")
    assert response.status_code == 202, response.json()
    assert keys(bucket) == [Prediction.objects.get().image.name]
    assert stored_files(media_root) == []


def test_the_worker_reads_the_image_from_the_bucket(prediction):
    [ended] = services.run_predictions([prediction.pk])
    assert (ended.status, ended.digit) == (Prediction.Status.DONE, 7)


def test_a_missing_object_is_404_and_fails_the_reading(bucket, owner_client, prediction):
    bucket.delete_object(Bucket=BUCKET, Key=prediction.image.name)
    assert owner_client.get(reverse("prediction-image", args=[prediction.pk])).status_code == 404
    services.run_predictions([prediction.pk])
    ended = Prediction.objects.get(pk=prediction.pk)
    assert (ended.status, ended.error) == (Prediction.Status.FAILED, "The stored image is missing.")


def test_deleting_a_prediction_removes_its_objects(bucket, owner_client, prediction):
    response = owner_client.post(reverse("prediction-delete", args=[prediction.pk]))
    assert response.status_code == 302
    assert keys(bucket) == []
