"""Writes: create predictions from uploads, run them, delete them.

The web pages, the API and the Celery task all go through these functions.
"""

import io
import logging
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from kombu.exceptions import OperationalError
from PIL import Image

from digitsite.errors import StorageUnavailable
from ml.inference import get_recognizer
from ml.preprocess import ImageError, decode_image, inspect_image
from ml.strings import get_string_reader

from .models import Heartbeat, Prediction
from .notifications import announce_ended
from .storage import delete_quietly, read_file, save_new_file

logger = logging.getLogger(__name__)

SWEEPER = "sweeper"  # the Heartbeat the sweep records
# Reasons stored with a failed prediction stay English (the API's data); pages translate them when shown.
STOPPED_THE_READER = gettext_noop("This image could not be read: the reader stopped each time it tried.")
TOOK_TOO_LONG = gettext_noop("Reading this image took too long. Please try again.")
IMAGE_MISSING = gettext_noop("The stored image is missing.")
THUMBNAIL_SIDE = 160
EXTENSIONS = {
    "PNG": ".png", "JPEG": ".jpg", "MPO": ".jpg", "GIF": ".gif", "BMP": ".bmp", "TIFF": ".tif", "WEBP": ".webp",
}


@dataclass
class CheckedImage:
    """An upload that passed every check: its bytes, original format and size as shown."""

    name: str
    data: bytes
    format: str
    width: int
    height: int


def _check_size(name, size):
    limit = settings.RECOGNITION_MAX_UPLOAD_BYTES
    if size > limit:
        shown, shown_limit = filesizeformat(size), filesizeformat(limit)
        if shown == shown_limit:  # just over: rounded alike, so say the bytes
            shown, shown_limit = (gettext("%(bytes)s bytes") % {"bytes": f"{n:,}"} for n in (size, limit))
        values = {"name": name, "size": shown, "limit": shown_limit}
        if name:
            message = gettext("“%(name)s” is %(size)s; the limit is %(limit)s.")
        else:
            message = gettext("The image is %(size)s; the limit is %(limit)s.")
        raise ValidationError(message % values, code="too_large")


def check_upload(upload):
    """check_image for an uploaded file, refusing one over the size limit before reading it."""
    _check_size(upload.name, upload.size)
    return check_image(upload.name, upload.read())


def check_image(name, data):
    """Accept bytes that make a usable image, or raise ValidationError with a message for people."""
    _check_size(name, len(data))
    try:
        image_format, width, height = inspect_image(data)
    except ImageError as error:
        values = {"name": name, "error": gettext(error.message) % error.params}  # the engine's words, translated
        message = (gettext("“%(name)s”: %(error)s") if name else gettext("The image: %(error)s")) % values
        raise ValidationError(message, code=error.code) from None
    return CheckedImage(name=name, data=data, format=image_format, width=width, height=height)


def _thumbnail_png(picture):
    if picture.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        # Pillow's own conversion to 8 bits clips wide ranges; scale to the image's own maximum.
        pixels = np.nan_to_num(np.asarray(picture, dtype=np.float32), nan=0.0, posinf=0.0, neginf=0.0)
        picture = Image.fromarray(np.uint8(np.clip(255 * pixels / max(pixels.max(), 1), 0, 255)))
    if picture.mode in ("RGBA", "LA", "PA") or "transparency" in picture.info:
        rgba = picture.convert("RGBA")
        picture = Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba)
    picture = picture.convert("L" if picture.mode in ("1", "L") else "RGB")
    picture.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG", compress_level=1)  # small already; speed matters more here
    return buffer.getvalue()


def create_prediction(
    owner, image: CheckedImage, source=Prediction.Source.UPLOAD, idempotency_key="", kind=Prediction.Kind.DIGIT
):
    """Store the image, record a pending prediction of this kind and queue its reading once the row is committed.

    With an idempotency key that this owner used before, nothing new is made: the earlier
    prediction is returned, also when two requests with the key race. StorageUnavailable when the
    image cannot be stored: then there is neither a row nor a file.
    """
    return _record(_store(owner, image, source, kind, idempotency_key))


def create_predictions(owner, images, source=Prediction.Source.UPLOAD, kind=Prediction.Kind.DIGIT):
    """create_prediction for each image, all or none: every image is stored before any row is made."""
    stored = []
    try:
        for image in images:
            stored.append(_store(owner, image, source, kind))
    except StorageUnavailable:
        for prediction in stored:
            _delete_files(prediction)
        raise
    return [_record(prediction) for prediction in stored]


def _store(owner, image, source, kind, idempotency_key=""):
    """An unsaved prediction whose image is stored."""
    prediction = Prediction(
        owner=owner,
        source=source,
        kind=kind,
        original_name=(image.name or "")[:255],
        width=image.width,
        height=image.height,
        idempotency_key=idempotency_key,
    )
    save_new_file(prediction, "image", f"image{EXTENSIONS[image.format]}", image.data)
    return prediction


def _record(prediction):
    """Save the prediction stored by _store and queue its reading once committed."""
    # On its own the INSERT runs in autocommit, so SQLite holds its write lock for that one statement
    # (in a transaction it would be held while Python code between BEGIN and COMMIT waits for the GIL);
    # inside a caller's transaction, a savepoint keeps a duplicate key from spoiling it.
    try:
        with transaction.atomic() if transaction.get_connection().in_atomic_block else nullcontext():
            prediction.save()
    except IntegrityError:
        _delete_files(prediction)
        if not prediction.idempotency_key:
            raise
        return Prediction.objects.get(owner=prediction.owner, idempotency_key=prediction.idempotency_key)
    except Exception:
        _delete_files(prediction)  # no file without its row
        raise
    transaction.on_commit(lambda: enqueue(prediction.pk))
    return prediction


def enqueue(prediction_id):
    """Queue the reading. If the broker cannot take it, the prediction stays pending, not lost: the
    sweep queues it again once the broker is back, and fails it after RECOGNITION_GIVE_UP_AFTER_S."""
    from .tasks import recognize_prediction

    try:
        recognize_prediction.apply_async(args=[str(prediction_id)], retry=True, retry_policy={"max_retries": 2})
    except OperationalError:
        logger.warning("Could not queue prediction %s; the sweep queues it again", prediction_id, exc_info=True)


def sweep_stale_predictions():
    """Re-queue predictions pending for too long (a lost message, a worker that died) and fail the
    hopeless ones; record the run, so that the health check can tell when sweeps stop."""
    now = timezone.now()
    pending = Prediction.objects.filter(status=Prediction.Status.PENDING)
    give_up_before = now - timedelta(seconds=settings.RECOGNITION_GIVE_UP_AFTER_S)
    hopeless = list(pending.filter(created_at__lt=give_up_before).values_list("pk", flat=True))
    for prediction_id in hopeless:
        fail_prediction(prediction_id, TOOK_TOO_LONG)
    requeue_before = now - timedelta(seconds=settings.RECOGNITION_REQUEUE_AFTER_S)
    stale = list(pending.filter(created_at__lt=requeue_before).values_list("pk", flat=True))
    for prediction_id in stale:
        enqueue(prediction_id)
    Heartbeat.objects.update_or_create(name=SWEEPER, defaults={"at": timezone.now()})
    return len(hopeless), len(stale)


def run_predictions(prediction_ids):
    """Read the pending ones among these predictions and store the outcomes.

    Safe to run twice. No lock is held while the engine reads: each outcome is written by a
    conditional UPDATE, so a second run (a redelivered message, the sweep) finds the prediction
    ended and changes nothing. Each reading is counted before it starts: predictions read before
    (their worker died, maybe because of one of them) are read one at a time, so that one image
    that kills the reader cannot take the others with it, and one that has stopped the reader
    RECOGNITION_MAX_ATTEMPTS times is failed instead of read again. Returns the predictions that
    this call ended.
    """
    pending = list(Prediction.objects.filter(pk__in=prediction_ids, status=Prediction.Status.PENDING))
    fresh = [prediction for prediction in pending if prediction.attempts == 0]
    ended = _read(fresh) if fresh else []
    for suspect in (prediction for prediction in pending if prediction.attempts > 0):
        if suspect.attempts >= settings.RECOGNITION_MAX_ATTEMPTS:
            if fail_prediction(suspect.pk, STOPPED_THE_READER):
                ended.append(suspect)
        else:
            ended.extend(_read([suspect]))
    return ended


def _digit_outcome(reading):
    return {
        "status": Prediction.Status.DONE, "digit": reading.digit, "confidence": reading.confidence,
        "probabilities": reading.probabilities, "model_version": reading.model_version, "timings": reading.timings,
    }


def _number_outcome(reading):
    # Plain ints and floats: the outcome is also sent as JSON to the API requests waiting on it.
    characters = [
        {"digit": str(c.digit), "box": [int(v) for v in c.box], "confidence": float(c.confidence)}
        for c in reading.characters
    ]
    return {
        "status": Prediction.Status.DONE, "digits": reading.digits, "confidence": float(reading.confidence),
        "auto_accept": bool(reading.auto_accept), "characters": characters, "model_version": reading.model_version,
        "timings": reading.timings,
    }


def _engine(kind):
    """What reads this kind, and how its reading becomes the prediction's fields."""
    if kind == Prediction.Kind.NUMBER:
        return get_string_reader(), _number_outcome
    return get_recognizer(), _digit_outcome


def _read(predictions):
    """Read these predictions, one engine call per kind, after counting the attempt; the ones this ended."""
    Prediction.objects.filter(pk__in=[p.pk for p in predictions]).update(attempts=F("attempts") + 1)
    outcomes, by_kind = [], {}
    for prediction in predictions:
        try:
            data = read_file(prediction.image)  # StorageUnavailable is transient: the task retries
        except FileNotFoundError:
            outcomes.append((prediction, {"status": Prediction.Status.FAILED, "error": IMAGE_MISSING}))
            continue
        by_kind.setdefault(prediction.kind, []).append((prediction, data))
    for kind, group in by_kind.items():
        reader, outcome_of = _engine(kind)
        for (prediction, _), reading in zip(group, reader.read([data for _, data in group])):
            if isinstance(reading, ImageError):
                outcomes.append((prediction, {"status": Prediction.Status.FAILED, "error": str(reading)}))
            else:
                outcomes.append((prediction, outcome_of(reading)))
    with transaction.atomic():  # one commit for the batch
        ended = [(prediction, outcome) for prediction, outcome in outcomes if _end(prediction, outcome)]
        transaction.on_commit(lambda: announce_ended({done.pk: outcome for done, outcome in ended}))
    return [prediction for prediction, _ in ended]


def fail_prediction(prediction_id, reason):
    """Mark a prediction failed unless it already ended; True if this call ended it."""
    outcome = {"status": Prediction.Status.FAILED, "error": reason}
    if not _end(Prediction(pk=prediction_id), outcome):
        return False
    transaction.on_commit(lambda: announce_ended({prediction_id: outcome}))
    return True


def _end(prediction, outcome):
    """Store the outcome (a dict of fields; finished_at is added) if the prediction is still
    pending; True if this call ended it."""
    outcome["finished_at"] = timezone.now()
    if not Prediction.objects.filter(pk=prediction.pk, status=Prediction.Status.PENDING).update(**outcome):
        return False
    for field, value in outcome.items():
        setattr(prediction, field, value)
    return True


def thumbnail_of(prediction):
    """The prediction's thumbnail, made on first use: most API predictions are never shown in a list.

    Two first views at once may both make one; the first to record it wins and the other's file is removed.
    """
    if prediction.thumbnail:
        return prediction.thumbnail
    try:
        picture = decode_image(read_file(prediction.image))
    except (FileNotFoundError, ImageError):
        return prediction.thumbnail  # empty: nothing to show
    save_new_file(prediction, "thumbnail", "thumbnail.png", _thumbnail_png(picture))
    if not Prediction.objects.filter(pk=prediction.pk, thumbnail="").update(thumbnail=prediction.thumbnail.name):
        delete_quietly(prediction.thumbnail.storage, prediction.thumbnail.name)
        prediction.refresh_from_db(fields=["thumbnail"])
    return prediction.thumbnail


def delete_prediction(prediction):
    """Delete a prediction and its files."""
    prediction.delete()
    _delete_files(prediction)


def _delete_files(prediction):
    for stored in (prediction.image, prediction.thumbnail):
        if stored:
            delete_quietly(stored.storage, stored.name)
