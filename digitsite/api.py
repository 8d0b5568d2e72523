"""What every API endpoint shares: one error format, its exception handler and pagination."""

import logging

import kombu.exceptions
import redis.exceptions
from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.db import InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext, gettext_lazy as _, ngettext
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import TemporarilyUnavailable

logger = logging.getLogger(__name__)

# What a request may meet that is not its fault and passes: a lost database connection (the next request
# reconnects), Redis down or hanging (the cache that throttles count in, the broker, the wait notifications).
UNAVAILABLE = (
    OperationalError, InterfaceError,
    redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, kombu.exceptions.OperationalError,
)

# Image checks name these codes; the HTTP status says which kind of refusal it is.
STATUS_FOR_CODE = {"too_large": status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, "unsupported": status.HTTP_415_UNSUPPORTED_MEDIA_TYPE}


class Pagination(PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100


def error_body(status_code, code, message, errors=None):
    """The one error format: {"status", "code", "message", "errors": {field: [messages]}}."""
    return {"status": status_code, "code": code, "message": message, "errors": errors or {}}


def _flatten(detail, prefix=""):
    """Field errors as {"field": [message, ...]} with their codes, nested fields joined by dots."""
    if isinstance(detail, dict):
        flat = {}
        for field, value in detail.items():
            name = f"{prefix}.{field}" if prefix else str(field)
            flat.update(_flatten(value, name))
        return flat
    items = detail if isinstance(detail, list) else [detail]
    return {prefix or "non_field_errors": [(str(item), getattr(item, "code", "invalid")) for item in items]}


class ServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = _("The service is briefly unavailable. Please try again in a few seconds.")
    default_code = "unavailable"

    def __init__(self, detail=None, code=None, wait=None):
        super().__init__(detail, code)
        self.wait = wait or settings.SERVICE_RETRY_AFTER_S  # DRF's handler sends it as Retry-After


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"


def log_unavailable(exc):
    logger.warning("Answering 503: %s: %s", type(exc).__name__, exc, exc_info=exc)  # its own traceback, wherever called


def _as_api_exception(exc):
    """Django's, the database's and Redis's exceptions that DRF leaves to Django (a 500, or an HTML 400)
    as API errors."""
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, PermissionDenied):
        return exceptions.PermissionDenied()
    if isinstance(exc, UNAVAILABLE):
        log_unavailable(exc)
        return ServiceUnavailable()
    if isinstance(exc, TemporarilyUnavailable):  # e.g. the file storage: says which service, and when to retry
        log_unavailable(exc)
        return ServiceUnavailable(str(exc), exc.code, exc.retry_after)
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return RequestTooLarge(gettext("The request is too large: the limit is %(size)s (%(bytes)s bytes).")
                               % {"size": filesizeformat(limit), "bytes": f"{limit:,}"})
    if isinstance(exc, TooManyFilesSent):
        count = settings.DATA_UPLOAD_MAX_NUMBER_FILES
        return exceptions.ValidationError(
            ngettext("Send at most %(count)d file in one request.",
                     "Send at most %(count)d files in one request.", count) % {"count": count},
            code="too_many",
        )
    if isinstance(exc, TooManyFieldsSent):
        return exceptions.ValidationError(gettext("The request has too many fields."), code="too_many")
    return exc


def exception_handler(exc, context):
    exc = _as_api_exception(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # not an API error: Django's 500 handling applies
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        first_message, first_code = next(iter(fields.values()))[0]
        codes = {code for pairs in fields.values() for _, code in pairs}
        for code, status_code in STATUS_FOR_CODE.items():
            if code in codes:
                response.status_code = status_code
        errors = {field: [message for message, _ in pairs] for field, pairs in fields.items()}
        response.data = error_body(response.status_code, first_code, first_message, errors)
    else:
        response.data = error_body(response.status_code, exc.detail.code, str(exc.detail))
    return response


# Django's error views (urls.handler*), for requests that never reach an API view: unknown paths under
# /api/, a request Django refuses before the view. Under /api/ they answer in the one error format.

def _api_error(request, status_code, code, message):
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(status_code, code, message), status=status_code)
    return None


def bad_request(request, exception):
    return _api_error(request, 400, "bad_request", gettext("The request is malformed.")) or (
        defaults.bad_request(request, exception)
    )


def page_not_found(request, exception):
    return _api_error(request, 404, "not_found", gettext("Not found.")) or defaults.page_not_found(
        request, exception
    )


def server_error(request):
    return _api_error(request, 500, "server_error", gettext("A server error occurred.")) or (
        defaults.server_error(request)
    )
