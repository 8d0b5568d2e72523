from django.conf import settings
from django.shortcuts import render

from .api import UNAVAILABLE, log_unavailable
from .errors import TemporarilyUnavailable


class ServiceUnavailableMiddleware:
    """A page whose view found Redis down, lost its database connection or could not reach the file
    storage answers a plain 503 page with Retry-After instead of a 500. (API views answer a 503 in the
    API's error format, through digitsite.api.)"""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, TemporarilyUnavailable):
            message, retry_after = str(exception), exception.retry_after
        elif isinstance(exception, UNAVAILABLE):
            message, retry_after = None, settings.SERVICE_RETRY_AFTER_S
        else:
            return None
        log_unavailable(exception)
        response = render(request, "503.html", {"message": message}, status=503)
        response["Retry-After"] = str(retry_after)
        return response
