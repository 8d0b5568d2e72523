"""A storage that fails while saving an upload (a full disk, an I/O error, an object store that refuses):
a clear error, and neither a row nor a (partly written) file is left."""

import errno
import os
import subprocess

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from django.core.files.storage import FileSystemStorage
from django.urls import reverse
from PIL import Image

from digitsite.errors import StorageUnavailable
from recognition import services
from recognition.models import Prediction

from .conftest import png, sample, stored_files, upload

pytestmark = pytest.mark.django_db

API_LIST = "/api/v1/predictions/"


class FillingStorage(FileSystemStorage):
    """A local disk with `room` bytes left: the file is written up to that and then the write fails,
    as a full disk fails, leaving the part written."""

    def __init__(self, room=0, **kwargs):
        super().__init__(**kwargs)
        self.room = room

    def _save(self, name, content):
        path = self.path(name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as written:
            for chunk in content.chunks():
                fits = chunk[: self.room]
                written.write(fits)
                self.room -= len(fits)
                if len(fits) < len(chunk):
                    written.flush()
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), path)
        return name


class FailingStorage(FileSystemStorage):
    """A storage whose every save (and, with fail_reads, every open) raises the given error."""

    def __init__(self, error, fail_reads=False, **kwargs):
        super().__init__(**kwargs)
        self.error, self.fail_reads = error, fail_reads

    def _save(self, name, content):
        raise self.error

    def _open(self, name, mode="rb"):
        if self.fail_reads:
            raise self.error
        return super()._open(name, mode)


S3_REFUSES = ClientError(
    {"Error": {"Code": "ServiceUnavailable", "Message": "Slow down"},
     "ResponseMetadata": {"HTTPStatusCode": 503}},
    "PutObject",
)


@pytest.fixture
def storage(settings, media_root):
    """Make the default storage `backend` (a class of this module) with these options."""

    def use(backend, **options):
        settings.STORAGES = {
            **settings.STORAGES,
            "default": {
                "BACKEND": f"{__name__}.{backend}", "OPTIONS": {"location": str(media_root), **options}
            },
        }

    return use


def seven():
    return services.check_image("seven.png", sample("canvas_7.png"))


@pytest.mark.parametrize("room", [0, 100])
def test_a_full_disk_leaves_no_row_and_no_partial_file(user, storage, media_root, room):
    storage("FillingStorage", room=room)
    with pytest.raises(StorageUnavailable, match="nothing was saved"):
        services.create_prediction(user, seven())
    assert not Prediction.objects.exists()
    assert stored_files(media_root) == []


@pytest.mark.parametrize(
    "error",
    [OSError(errno.EIO, "Input/output error"), S3_REFUSES, EndpointConnectionError(endpoint_url="http://s3")],
    ids=["EIO", "S3 503", "S3 unreachable"],
)
def test_a_failing_storage_is_storage_unavailable(user, storage, media_root, error):
    storage("FailingStorage", error=error)
    with pytest.raises(StorageUnavailable):
        services.create_prediction(user, seven())
    assert not Prediction.objects.exists()
    assert stored_files(media_root) == []


def test_the_api_answers_503_with_retry_after_in_the_error_format(api, storage, media_root):
    storage("FillingStorage", room=100)
    response = api.post(API_LIST, {"image": upload("seven.png", sample("canvas_7.png"))}, format="multipart")
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    body = response.json()
    assert body == {"status": 503, "code": "storage_unavailable", "message": body["message"], "errors": {}}
    assert "try again" in body["message"]
    assert not Prediction.objects.exists()
    assert stored_files(media_root) == []


def test_the_upload_form_shows_the_error_by_the_field_and_keeps_none_of_the_images(
    owner_client, storage, media_root
):
    seven_bytes = sample("canvas_7.png")
    storage("FillingStorage", room=len(seven_bytes) + 100)  # the first image fits, the second does not
    response = owner_client.post(
        reverse("upload"),
        {"images": [upload("a.png", seven_bytes), upload("b.png", seven_bytes)], "source": "upload"},
    )
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    assert "nothing was saved" in response.context["form"].errors["images"][0]
    assert "nothing was saved" in response.content.decode()
    assert not Prediction.objects.exists()
    assert stored_files(media_root) == []  # the first image's file is removed too


def test_a_storage_that_fails_to_read_is_retried_by_the_worker(user, storage, media_root):
    prediction = services.create_prediction(user, seven())
    storage("FailingStorage", error=OSError(errno.EIO, "Input/output error"), fail_reads=True)
    with pytest.raises(StorageUnavailable):  # recognition.tasks retries it as transient
        services.run_predictions([prediction.pk])
    assert Prediction.objects.get(pk=prediction.pk).status == Prediction.Status.PENDING


@pytest.fixture
def small_tmpfs(tmp_path):
    """A real 64 KiB tmpfs, where this test may mount one (root, with the capability)."""
    mount_point = tmp_path / "tmpfs"
    mount_point.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount_point)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    yield mount_point
    subprocess.run(["umount", str(mount_point)], check=True)


def test_a_real_full_tmpfs_leaves_no_row_and_no_partial_file(user, settings, small_tmpfs):
    settings.MEDIA_ROOT = small_tmpfs
    noise = Image.frombytes("RGB", (200, 200), os.urandom(200 * 200 * 3))  # ~120 KB: more than the room
    with pytest.raises(StorageUnavailable):
        services.create_prediction(user, services.check_image("noise.png", png(noise)))
    assert not Prediction.objects.exists()
    assert stored_files(small_tmpfs) == []


@pytest.fixture
def prediction(user):
    return services.create_prediction(user, seven())


def test_a_file_the_storage_cannot_read_is_503_not_500(owner_client, api, storage, prediction):
    storage("FailingStorage", error=OSError(errno.EIO, "Input/output error"), fail_reads=True)
    for name in ("prediction-image", "prediction-thumbnail"):
        page = owner_client.get(reverse(name, args=[prediction.pk]))
        assert page.status_code == 503 and int(page["Retry-After"]) > 0
        assert "try again" in page.content.decode()
    response = api.get(f"{API_LIST}{prediction.pk}/image/")
    assert response.status_code == 503 and int(response["Retry-After"]) > 0
    assert response.json()["code"] == "storage_unavailable"


def test_an_object_gone_between_open_and_read_counts_as_missing(user, storage, prediction):
    gone = ClientError(
        {"Error": {"Code": "NoSuchKey"}, "ResponseMetadata": {"HTTPStatusCode": 404}}, "GetObject"
    )
    storage("FailingStorage", error=gone, fail_reads=True)
    services.run_predictions([prediction.pk])
    ended = Prediction.objects.get(pk=prediction.pk)
    assert (ended.status, ended.error) == (Prediction.Status.FAILED, "The stored image is missing.")
