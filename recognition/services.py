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
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from kombu.exceptions import OperationalError
from PIL import Image

from ml.inference import get_recognizer
from ml.preprocess import ImageError, decode_image, inspect_image

from .models import Prediction
from .notifications import announce_ended

logger = logging.getLogger(__name__)

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


def _label(name):
    return f"“{name}”" if name else "The image"


def _check_size(name, size):
    limit = settings.RECOGNITION_MAX_UPLOAD_BYTES
    if size > limit:
        raise ValidationError(
            f"{_label(name)} is {filesizeformat(size)}; the limit is {filesizeformat(limit)}.", code="too_large"
        )


def check_upload(upload):
    """check_image for an uploaded file, refusing one over the size limit before reading it."""
    _check_size(upload.name, upload.size)
    return check_image(upload.name, upload.read())


def check_image(name, data):
    """Accept bytes that make a usable image, or raise ValidationError with a message for people."""
    label = _label(name)
    _check_size(name, len(data))
    try:
        image_format, width, height = inspect_image(data)
    except ImageError as error:
        raise ValidationError(f"{label}: {error}", code=error.code) from None
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


def create_prediction(owner, image: CheckedImage, source=Prediction.Source.UPLOAD, idempotency_key=""):
    """Store the image, record a pending prediction and queue its reading once the row is committed.

    With an idempotency key that this owner used before, nothing new is made: the earlier
    prediction is returned, also when two requests with the key race.
    """
    prediction = Prediction(
        owner=owner,
        source=source,
        original_name=(image.name or "")[:255],
        width=image.width,
        height=image.height,
        idempotency_key=idempotency_key,
    )
    prediction.image.save(f"image{EXTENSIONS[image.format]}", ContentFile(image.data), save=False)
    # On its own the INSERT runs in autocommit, so SQLite holds its write lock for that one statement
    # (in a transaction it would be held while Python code between BEGIN and COMMIT waits for the GIL);
    # inside a caller's transaction, a savepoint keeps a duplicate key from spoiling it.
    try:
        with transaction.atomic() if transaction.get_connection().in_atomic_block else nullcontext():
            prediction.save()
    except IntegrityError:
        _delete_files(prediction)
        if not idempotency_key:
            raise
        return Prediction.objects.get(owner=owner, idempotency_key=idempotency_key)
    transaction.on_commit(lambda: enqueue(prediction.pk))
    return prediction


def enqueue(prediction_id):
    """Queue the reading; if the broker cannot take it, the prediction fails now rather than hang."""
    from .tasks import recognize_prediction

    try:
        recognize_prediction.apply_async(args=[str(prediction_id)], retry=True, retry_policy={"max_retries": 2})
    except OperationalError:
        logger.exception("Could not queue prediction %s", prediction_id)
        fail_prediction(prediction_id, "The recognition service is unavailable right now. Please try again.")


def sweep_stale_predictions(requeue_after=timedelta(minutes=2), give_up_after=timedelta(minutes=15)):
    """Re-queue predictions pending for too long (a lost message) and fail the hopeless ones."""
    now = timezone.now()
    pending = Prediction.objects.filter(status=Prediction.Status.PENDING)
    hopeless = list(pending.filter(created_at__lt=now - give_up_after).values_list("pk", flat=True))
    for prediction_id in hopeless:
        fail_prediction(prediction_id, "Reading this image took too long. Please try again.")
    stale = list(pending.filter(created_at__lt=now - requeue_after).values_list("pk", flat=True))
    for prediction_id in stale:
        enqueue(prediction_id)
    return len(hopeless), len(stale)


def run_predictions(prediction_ids):
    """Read the pending ones among these predictions, in one engine call, and store the outcomes.

    Safe to run twice. No lock is held while the engine reads: each outcome is written by a
    conditional UPDATE, so a second run (a redelivered message, the sweep) finds the prediction
    ended and changes nothing. Returns the predictions that this call ended.
    """
    pending = list(Prediction.objects.filter(pk__in=prediction_ids, status=Prediction.Status.PENDING))
    outcomes, images, readable = [], [], []
    for prediction in pending:
        try:
            with prediction.image.open("rb") as stored:
                images.append(stored.read())
            readable.append(prediction)
        except FileNotFoundError:
            outcomes.append((prediction, {"status": Prediction.Status.FAILED, "error": "The stored image is missing."}))
    readings = get_recognizer().read(images) if images else []
    for prediction, reading in zip(readable, readings):
        if isinstance(reading, ImageError):
            outcomes.append((prediction, {"status": Prediction.Status.FAILED, "error": str(reading)}))
        else:
            outcomes.append((prediction, {
                "status": Prediction.Status.DONE, "digit": reading.digit, "confidence": reading.confidence,
                "probabilities": reading.probabilities, "model_version": reading.model_version,
                "timings": reading.timings,
            }))
    with transaction.atomic():  # one commit for the batch
        ended = [(prediction, outcome) for prediction, outcome in outcomes if _end(prediction, outcome)]
        transaction.on_commit(lambda: announce_ended({done.pk: outcome for done, outcome in ended}))
    return [prediction for prediction, _ in ended]


def fail_prediction(prediction_id, reason):
    """Mark a prediction failed unless it already ended."""
    prediction = Prediction.objects.filter(pk=prediction_id).first()
    outcome = {"status": Prediction.Status.FAILED, "error": reason}
    if prediction is not None and _end(prediction, outcome):
        transaction.on_commit(lambda: announce_ended({prediction.pk: outcome}))
    return prediction


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
        with prediction.image.open("rb") as stored:
            picture = decode_image(stored.read())
    except (FileNotFoundError, ImageError):
        return prediction.thumbnail  # empty: nothing to show
    prediction.thumbnail.save("thumbnail.png", ContentFile(_thumbnail_png(picture)), save=False)
    if not Prediction.objects.filter(pk=prediction.pk, thumbnail="").update(thumbnail=prediction.thumbnail.name):
        prediction.thumbnail.storage.delete(prediction.thumbnail.name)
        prediction.refresh_from_db(fields=["thumbnail"])
    return prediction.thumbnail


def delete_prediction(prediction):
    """Delete a prediction and its files."""
    prediction.delete()
    _delete_files(prediction)


def _delete_files(prediction):
    for stored in (prediction.image, prediction.thumbnail):
        if stored:
            stored.storage.delete(stored.name)
