"""What every API endpoint shares: one error format and page-number pagination."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import TemporarilyUnavailable

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


def exception_handler(exc, context):
    # DRF turns these into API exceptions inside its own handler; do it first to read their codes.
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, TemporarilyUnavailable):
        unavailable = exc
        exc = exceptions.APIException(str(unavailable), code=unavailable.code)
        exc.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        exc.wait = unavailable.retry_after  # DRF's handler sends it as Retry-After
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
