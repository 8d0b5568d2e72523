"""Writes: create a batch from many uploaded images or one zip of them."""

import unicodedata
import zipfile
import zlib
from pathlib import PurePosixPath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext

from recognition.models import Prediction
from recognition.services import check_image, check_upload, create_predictions
from recognition.storage import delete_quietly

from ..models import Batch, BatchItem


def create_batch(official, name, kind, files=(), archive=None, source=Prediction.Source.UPLOAD):
    """Check every image, store the good ones as the items of a new batch of the official's organization
    and queue their readings once committed; the bad ones are listed in batch.skipped with the reason.

    ValidationError when nothing usable was sent or a limit is passed (then nothing is stored);
    StorageUnavailable (from recognition) when the images cannot be stored.
    """
    if not (official.is_official and official.organization_id):
        raise ValidationError(gettext("Only bank officials of an organization create batches."),
                              code="not_official")
    files = list(files)
    files_size = sum(upload.size for upload in files)
    _check_totals(len(files), files_size + (archive.size if archive else 0))
    images, skipped = [], []
    for upload in files:
        try:
            images.append(check_upload(upload))
        except ValidationError as error:
            skipped.append({"name": _clean_name(upload.name), "reason": " ".join(error.messages)})
    if archive is not None:
        archive_images, archive_skipped = _read_archive(archive, len(files), files_size)
        images += archive_images
        skipped += archive_skipped
    if not images:
        reasons = [gettext("%(name)s: %(reason)s") % s for s in skipped] or [
            gettext("Choose some images or a .zip of them.")]
        raise ValidationError([gettext("No image could be taken."), *reasons], code="empty")

    predictions = []
    try:
        with transaction.atomic():
            batch = Batch.objects.create(
                organization_id=official.organization_id, created_by=official, name=name, kind=kind,
                skipped=skipped, threshold=acceptance_threshold(official.organization, kind),
            )
            # Each item is read like a single prediction (create_predictions queues each once committed).
            predictions = create_predictions(official, images, source=source, kind=batch.prediction_kind)
            BatchItem.objects.bulk_create(
                BatchItem(batch=batch, prediction=prediction, original_name=prediction.original_name, position=number)
                for number, prediction in enumerate(predictions, start=1)
            )
    except Exception:
        for prediction in predictions:  # their rows were rolled back: no file without its row
            delete_quietly(prediction.image.storage, prediction.image.name)
        raise
    return batch


def acceptance_threshold(organization, kind):
    """The confidence from which a new batch's items are accepted automatically: the organization's setting,
    else the default for the kind (the string reader's model card; BATCH_DIGIT_ACCEPT_AT for digits)."""
    if organization.auto_accept_threshold is not None:
        return organization.auto_accept_threshold
    if kind == Batch.Kind.DIGIT:
        return settings.BATCH_DIGIT_ACCEPT_AT
    from ml.strings import default_threshold  # the card only; no model is loaded

    threshold = default_threshold()
    return 1.0 if threshold is None else threshold  # an uncalibrated reader accepts nothing by itself


def _check_totals(count, size):
    if count > settings.BATCH_MAX_IMAGES:
        raise ValidationError(gettext("A batch holds at most %(limit)s images; this one has %(count)s."),
                              code="too_many", params={"limit": f"{settings.BATCH_MAX_IMAGES:,}",
                                                       "count": f"{count:,}"})
    if size > settings.BATCH_MAX_BYTES:
        raise ValidationError(
            gettext("A batch holds at most %(limit)s; this one has %(size)s."), code="too_large",
            params={"limit": filesizeformat(settings.BATCH_MAX_BYTES), "size": filesizeformat(size)},
        )


def _clean_name(name):
    """The file's own name, without folders or control characters: only ever shown, never used as a path."""
    base = PurePosixPath((name or "").replace("\\", "/")).name
    return "".join(c for c in base if unicodedata.category(c)[0] != "C")[:255]


def _read_archive(archive, files_count, files_size):
    """The images in a .zip and the members skipped. Sizes are checked from the zip's directory before
    anything is decompressed (a zip bomb is refused whole), and reading never yields more bytes than the
    directory declares, so a lying header cannot inflate either. The batch's limits count the files sent
    beside the zip too."""
    try:
        with zipfile.ZipFile(archive) as bundle:
            members = [info for info in bundle.infolist() if not info.is_dir()]
            if not members:
                raise ValidationError(gettext("“%(name)s” holds no files."), code="empty_archive",
                                      params={"name": _clean_name(archive.name)})
            _check_totals(files_count + len(members), files_size + sum(info.file_size for info in members))
            limit = settings.RECOGNITION_MAX_UPLOAD_BYTES
            for info in members:
                if info.file_size > limit:
                    raise ValidationError(
                        gettext("“%(name)s” in the zip unpacks to %(size)s; each image may be at most "
                                "%(limit)s. The zip was not read."), code="too_large",
                        params={"name": _clean_name(info.filename), "size": filesizeformat(info.file_size),
                                "limit": filesizeformat(limit)},
                    )
            images, skipped = [], []
            for info in members:
                name = _clean_name(info.filename)
                if info.flag_bits & 0x1:
                    skipped.append({"name": name, "reason": gettext("It is encrypted.")})
                    continue
                try:
                    images.append(check_image(name, bundle.read(info)))
                except ValidationError as error:
                    skipped.append({"name": name, "reason": " ".join(error.messages)})
                except (zipfile.BadZipFile, zlib.error, NotImplementedError, EOFError) as error:
                    reason = gettext("It could not be unpacked (%(error)s).") % {"error": error}
                    skipped.append({"name": name, "reason": reason})
            return images, skipped
    except (zipfile.BadZipFile, OSError):
        raise ValidationError(gettext("“%(name)s” is not a readable .zip file."), code="bad_archive",
                              params={"name": _clean_name(archive.name)}) from None
