"""The service layer that pages, API and task share."""

import io
from datetime import timedelta

import pytest
from celery.signals import worker_process_init
from django.db import DatabaseError
from django.utils import timezone
from PIL import Image

from ml import inference
from recognition import services, tasks
from recognition.models import Heartbeat, Prediction
from recognition.tasks import recognize_prediction

from .conftest import png, sample

pytestmark = pytest.mark.django_db


def create(user, name="scan_3.jpg"):
    return services.create_prediction(user, services.check_image(name, sample(name)))


def test_create_stores_the_file_and_a_pending_prediction(user, media_root):
    prediction = create(user)
    assert prediction.status == Prediction.Status.PENDING
    assert (prediction.width, prediction.height) == Image.open(prediction.image.path).size
    assert prediction.image.name.endswith(".jpg")
    assert not prediction.thumbnail  # made when first shown


def test_the_thumbnail_is_made_once_on_first_use(user, media_root):
    prediction = create(user)
    thumbnail = services.thumbnail_of(prediction)
    assert max(Image.open(thumbnail.path).size) <= services.THUMBNAIL_SIDE
    assert Prediction.objects.get(pk=prediction.pk).thumbnail.name == thumbnail.name
    assert services.thumbnail_of(Prediction.objects.get(pk=prediction.pk)).name == thumbnail.name


def test_a_thumbnail_made_twice_at_once_keeps_one_file(user, media_root):
    prediction = create(user)
    first, second = Prediction.objects.get(pk=prediction.pk), Prediction.objects.get(pk=prediction.pk)
    kept = services.thumbnail_of(first).name
    assert services.thumbnail_of(second).name == kept  # the second finds the first's thumbnail recorded
    assert [path.name for path in (media_root / "thumbnails" / str(user.pk)).iterdir()] == [kept.rsplit("/", 1)[1]]


def test_run_reads_the_digit_and_is_idempotent(user):
    prediction = create(user)
    services.run_predictions([prediction.pk])
    prediction.refresh_from_db()
    assert (prediction.status, prediction.digit) == (Prediction.Status.DONE, 3)
    finished = prediction.finished_at
    services.run_predictions([prediction.pk])  # a redelivered task changes nothing
    prediction.refresh_from_db()
    assert prediction.finished_at == finished


def test_a_missing_file_ends_failed_with_a_reason(user):
    prediction = create(user)
    prediction.image.storage.delete(prediction.image.name)
    services.run_predictions([prediction.pk])
    prediction.refresh_from_db()
    assert prediction.status == Prediction.Status.FAILED
    assert prediction.error == "The stored image is missing."


def test_a_stored_file_that_went_bad_ends_failed(user):
    prediction = create(user)
    with open(prediction.image.path, "wb") as broken:
        broken.write(b"garbage")
    services.run_predictions([prediction.pk])
    prediction.refresh_from_db()
    assert prediction.status == Prediction.Status.FAILED
    assert "not an image" in prediction.error


def test_an_unexpected_fault_in_the_task_still_ends_the_prediction(user, monkeypatch):
    prediction = create(user)

    def broken_engine():
        raise RuntimeError("engine exploded")

    monkeypatch.setattr(services, "get_recognizer", broken_engine)
    recognize_prediction.apply(args=[str(prediction.pk)])
    prediction.refresh_from_db()
    assert prediction.status == Prediction.Status.FAILED
    assert "failed on our side" in prediction.error


def test_a_batch_reads_each_prediction_and_a_bad_file_fails_only_itself(user):
    good = [create(user), create(user, "canvas_7.png")]
    bad = create(user)
    with open(bad.image.path, "wb") as broken:
        broken.write(b"garbage")
    ended = services.run_predictions([p.pk for p in [*good, bad]])
    assert {p.pk for p in ended} == {p.pk for p in [*good, bad]}
    states = {p.pk: (p.status, p.digit) for p in Prediction.objects.all()}
    assert states == {good[0].pk: ("done", 3), good[1].pk: ("done", 7), bad.pk: ("failed", None)}


def test_a_prediction_out_of_attempts_after_transient_faults_ends_failed(user, monkeypatch):
    prediction = create(user)

    def database_down(ids):
        raise DatabaseError("database is locked")

    monkeypatch.setattr(services, "run_predictions", database_down)
    recognize_prediction.apply(args=[str(prediction.pk)], kwargs={"attempt": tasks.MAX_ATTEMPTS})
    prediction.refresh_from_db()
    assert prediction.status == Prediction.Status.FAILED and "failed on our side" in prediction.error


def test_a_task_for_a_deleted_prediction_does_nothing(user):
    prediction = create(user)
    pk = prediction.pk
    services.delete_prediction(prediction)
    assert services.run_predictions([pk]) == []


def test_thumbnails_of_transparent_and_16_bit_images(user):
    rgba = Image.new("RGBA", (300, 200), (0, 0, 0, 0))
    rgba.paste((0, 0, 0, 255), (100, 50, 140, 150))
    wide = Image.new("I;16", (200, 200), 0)
    wide.paste(40000, (80, 40, 120, 160))
    for picture in (rgba, wide):
        prediction = services.create_prediction(user, services.check_image("x.png", png(picture)))
        thumb = Image.open(services.thumbnail_of(prediction).path).convert("L")
        assert thumb.getextrema() == (0, 255) or thumb.getextrema()[1] - thumb.getextrema()[0] > 100


def test_the_sweep_requeues_stale_predictions_and_fails_hopeless_ones(user):
    fresh, stale, hopeless = create(user), create(user), create(user)
    now = timezone.now()
    Prediction.objects.filter(pk=stale.pk).update(created_at=now - timedelta(minutes=3))
    Prediction.objects.filter(pk=hopeless.pk).update(created_at=now - timedelta(minutes=20))
    assert services.sweep_stale_predictions() == (1, 1)
    states = {p.pk: p.status for p in Prediction.objects.all()}
    assert states == {fresh.pk: "pending", stale.pk: "pending", hopeless.pk: "failed"}
    assert "took too long" in Prediction.objects.get(pk=hopeless.pk).error
    assert (timezone.now() - Heartbeat.objects.get(name=services.SWEEPER).at).total_seconds() < 5


def test_a_reading_that_killed_its_worker_is_retried_alone_and_then_given_up(user, monkeypatch, settings):
    settings.RECOGNITION_MAX_ATTEMPTS = 3
    innocent, poison, fresh = create(user), create(user), create(user)
    # The worker died while it read the first two together: each was counted once.
    Prediction.objects.filter(pk__in=[innocent.pk, poison.pk]).update(attempts=1)
    Prediction.objects.filter(pk=poison.pk).update(attempts=3)  # ...and the poison one twice more, alone
    calls = []
    real_read = services.get_recognizer().read
    monkeypatch.setattr(services.get_recognizer(), "read", lambda images: calls.append(len(images)) or real_read(images))

    services.run_predictions([innocent.pk, poison.pk, fresh.pk])

    states = {p.pk: (p.status, p.attempts) for p in Prediction.objects.all()}
    assert states == {fresh.pk: ("done", 1), innocent.pk: ("done", 2), poison.pk: ("failed", 3)}
    assert calls == [1, 1]  # the fresh one, then the suspect on its own; the poison one not at all
    assert Prediction.objects.get(pk=poison.pk).error == services.STOPPED_THE_READER


def test_a_late_reading_does_not_overwrite_a_prediction_that_ended(user):
    prediction = create(user)
    services.fail_prediction(prediction.pk, "Given up.")
    services.run_predictions([prediction.pk])
    prediction.refresh_from_db()
    assert (prediction.status, prediction.error, prediction.digit) == ("failed", "Given up.", None)


def test_worker_processes_load_the_engine_as_they_start(monkeypatch):
    monkeypatch.setattr(inference.get_recognizer, "instance", None)
    worker_process_init.send(sender=None)
    assert isinstance(inference.get_recognizer.instance, inference.Recognizer)


def test_a_large_rotated_photo_keeps_its_full_size_as_shown(user):
    """The check decodes at reduced scale, but the prediction records the picture's own size, upright."""
    exif = Image.Exif()
    exif[0x0112] = 6  # stored on its side, as a phone does
    buffer = io.BytesIO()
    Image.new("RGB", (3000, 2000), "white").save(buffer, format="JPEG", exif=exif)
    prediction = services.create_prediction(user, services.check_image("photo.jpg", buffer.getvalue()))
    assert (prediction.width, prediction.height) == (2000, 3000)
