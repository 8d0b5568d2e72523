"""create_batch: files and zips, the bad ones reported, limits, and the items read like single predictions."""

from unittest import mock

import pytest
from django.core.exceptions import ValidationError

from batches import services
from batches.models import Batch, BatchItem
from ml.strings import default_threshold
from recognition.models import Prediction
from recognition.tests.conftest import blank_png, sample, stored_files

from .conftest import digit_files, upload, zip_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def card_threshold():
    """The real model card here, not the other batch tests' fixed threshold."""


def test_three_images_and_a_bad_file_make_three_items_and_one_report(official, django_capture_on_commit_callbacks):
    files = [*digit_files(1, 2, 3), upload("notes.txt", b"not an image at all")]
    with mock.patch("recognition.services.enqueue") as enqueue, django_capture_on_commit_callbacks(execute=True):
        batch = services.create_batch(official, "March cheques", Batch.Kind.DIGIT, files)
    items = list(batch.items.select_related("prediction"))
    assert [item.original_name for item in items] == ["canvas_1.png", "canvas_2.png", "canvas_3.png"]
    assert [item.position for item in items] == [1, 2, 3]
    assert all(item.prediction.owner == official and item.prediction.kind == Prediction.Kind.DIGIT for item in items)
    assert all(item.prediction.status == Prediction.Status.PENDING for item in items)
    assert batch.organization == official.organization and batch.created_by == official
    assert batch.threshold == 0.99
    [skipped] = batch.skipped
    assert skipped["name"] == "notes.txt" and skipped["reason"]
    # Queued once committed, each like a single prediction.
    assert sorted(call.args[0] for call in enqueue.call_args_list) == sorted(item.prediction.pk for item in items)


@pytest.mark.parametrize("kind", [Batch.Kind.AMOUNT, Batch.Kind.NUMBER])
def test_amounts_and_numbers_are_read_as_numbers(official, kind, settings):
    batch = services.create_batch(official, "Accounts", kind, digit_files(4))
    assert batch.items.get().prediction.kind == Prediction.Kind.NUMBER
    # The string reader's card threshold, not the digits' one.
    assert batch.threshold == default_threshold() != settings.BATCH_DIGIT_ACCEPT_AT


@pytest.mark.parametrize("kind", list(Batch.Kind))
def test_the_organizations_threshold_comes_first(official, kind):
    official.organization.auto_accept_threshold = 0.9
    official.organization.save()
    assert services.create_batch(official, "Bank's own", kind, digit_files(1)).threshold == 0.9


def test_a_zip_batch_skips_folders_and_non_images_and_keeps_only_the_names(official, media_root):
    archive = zip_of({
        "scans/": None, "scans/a.png": sample("canvas_5.png"), "../../evil.png": sample("canvas_6.png"),
        "readme.txt": b"hello", "inner.zip": zip_of({"x.png": sample("canvas_7.png")}).read(),
        "bad\x07name.png": sample("canvas_8.png"),
    })
    batch = services.create_batch(official, "Zip", Batch.Kind.DIGIT, archive=archive)
    assert [item.original_name for item in batch.items.all()] == ["a.png", "evil.png", "badname.png"]
    assert sorted(s["name"] for s in batch.skipped) == ["inner.zip", "readme.txt"]
    # Stored under the predictions' random names only, inside MEDIA_ROOT.
    assert all("evil" not in path.name for path in stored_files(media_root))


def test_files_and_a_zip_together(official):
    batch = services.create_batch(official, "Both", Batch.Kind.DIGIT, digit_files(1), zip_of({"b.png": sample("canvas_2.png")}))
    assert batch.items.count() == 2


def test_a_zip_member_over_the_image_limit_refuses_the_zip_before_unpacking(official, settings, media_root):
    settings.RECOGNITION_MAX_UPLOAD_BYTES = 50_000
    archive = zip_of({"fine.png": sample("canvas_1.png"), "bomb.png": b"\0" * 10_000_000})
    with mock.patch("zipfile.ZipFile.read") as read, pytest.raises(ValidationError) as refused:
        services.create_batch(official, "Bomb", Batch.Kind.DIGIT, archive=archive)
    assert "“bomb.png” in the zip unpacks to 9.5 MB; each image may be at most 48.8 KB" in refused.value.messages[0].replace("\xa0", " ")
    read.assert_not_called()
    assert not Batch.objects.exists() and not stored_files(media_root)


def test_too_many_members_are_refused(official, settings):
    settings.BATCH_MAX_IMAGES = 2
    archive = zip_of({f"{n}.png": sample("canvas_1.png") for n in range(3)})
    with pytest.raises(ValidationError, match="at most 2 images; this one has 3"):
        services.create_batch(official, "Many", Batch.Kind.DIGIT, archive=archive)


def test_too_many_bytes_are_refused(official, settings):
    settings.BATCH_MAX_BYTES = 100
    with pytest.raises(ValidationError, match="at most 100"):
        services.create_batch(official, "Big", Batch.Kind.DIGIT, digit_files(1))


@pytest.mark.parametrize("archive, message", [
    (upload("broken.zip", b"PK\x03\x04 not really a zip"), "is not a readable .zip file"),
    (zip_of({}), "holds no files"),
    (zip_of({"empty/": None}), "holds no files"),
])
def test_a_bad_zip_is_a_clear_error(official, archive, message):
    with pytest.raises(ValidationError, match=message):
        services.create_batch(official, "Bad", Batch.Kind.DIGIT, archive=archive)
    assert not Batch.objects.exists()


def test_nothing_usable_is_an_error_listing_the_reasons(official):
    with pytest.raises(ValidationError) as refused:
        services.create_batch(official, "None", Batch.Kind.DIGIT, [upload("a.txt", b"text")])
    assert refused.value.messages[0] == "No image could be taken." and refused.value.messages[1].startswith("a.txt: ")
    assert not Batch.objects.exists() and not BatchItem.objects.exists()


def test_only_officials_create_batches(plain_user):
    with pytest.raises(ValidationError, match="Only bank officials"):
        services.create_batch(plain_user, "No", Batch.Kind.DIGIT, [upload("a.png", blank_png())])


def test_the_limits_count_the_files_and_the_zip_together(official, settings):
    settings.BATCH_MAX_IMAGES = 2
    archive = zip_of({f"{n}.png": sample("canvas_1.png") for n in range(2)})
    with pytest.raises(ValidationError, match="this one has 3"):
        services.create_batch(official, "Many", Batch.Kind.DIGIT, digit_files(1), archive)


def test_a_failure_while_recording_leaves_neither_rows_nor_files(official, media_root):
    with mock.patch.object(BatchItem.objects, "bulk_create", side_effect=RuntimeError("database gone")):
        with pytest.raises(RuntimeError):
            services.create_batch(official, "Lost", Batch.Kind.DIGIT, digit_files(1, 2))
    assert not Batch.objects.exists() and not Prediction.objects.exists()
    assert not stored_files(media_root)
