"""Failures of a service we depend on, which the client may retry: the API answers 503 with
Retry-After (digitsite.api.exception_handler); web pages show the message."""

from django.utils.translation import gettext_lazy as _


class TemporarilyUnavailable(Exception):
    code = "unavailable"
    message = _("The service is unavailable right now. Please try again in a minute.")
    retry_after = 30  # seconds

    def __init__(self, message=None):
        super().__init__(message or self.message)


class StorageUnavailable(TemporarilyUnavailable):
    code = "storage_unavailable"
    message = _("File storage is unavailable right now. Please try again in a minute.")
