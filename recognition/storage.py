"""Reading and removing stored uploads the same way on every storage (local folder or S3).

A storage that fails raises OSError (a full or failing disk) or botocore's errors (an object store
that is unreachable or refuses); callers see FileNotFoundError for a file that is gone and
StorageUnavailable for the rest.
"""

import logging

from botocore.exceptions import BotoCoreError, ClientError
from django.core.files.base import ContentFile
from django.utils.translation import gettext_lazy as _

from digitsite.errors import StorageUnavailable

logger = logging.getLogger(__name__)

STORAGE_ERRORS = (OSError, BotoCoreError, ClientError)
READ_FAILED = _("We could not read the stored image right now. Please try again in a minute.")
SAVE_FAILED = _(
    "We could not store your image right now, so nothing was saved. Please try again in a minute."
)


def is_missing(error):
    # django-storages turns S3's 404 on open into FileNotFoundError; a 404 between open and read (the
    # object deleted meanwhile) stays a ClientError.
    if isinstance(error, ClientError):
        return error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404
    return isinstance(error, FileNotFoundError)


def read_file(stored):
    """The bytes of a stored file (a FieldFile)."""
    try:
        with stored.open("rb") as handle:
            return handle.read()
    except STORAGE_ERRORS as error:
        if is_missing(error):
            raise FileNotFoundError(stored.name) from error
        logger.exception("Could not read %s from storage", stored.name)
        raise StorageUnavailable(READ_FAILED) from error


def save_new_file(instance, field_name, filename, data):
    """Store data as a new file of the instance's FileField (the instance itself is not saved).

    upload_to gives a fresh random name, so what a failed save left (a disk that filled up half-way
    leaves the part it wrote) is removed by that name: it is no one else's file.
    """
    field = instance._meta.get_field(field_name)
    name = field.generate_filename(instance, filename)
    try:
        stored_name = field.storage.save(name, ContentFile(data), max_length=field.max_length)
    except STORAGE_ERRORS as error:
        logger.exception("Could not store %d bytes as %s", len(data), name)
        delete_quietly(field.storage, name)
        raise StorageUnavailable(SAVE_FAILED) from error
    setattr(instance, field_name, stored_name)


def delete_quietly(storage, name):
    """Remove a file, logging (not raising) a failure: a leftover file must not fail what already happened."""
    try:
        storage.delete(name)
    except STORAGE_ERRORS:
        logger.exception("Could not delete %s from storage; it is left behind", name)
