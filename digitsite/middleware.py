from django.conf import settings
from django.shortcuts import render

from .api import UNAVAILABLE, log_unavailable


class ServiceUnavailableMiddleware:
    """A page whose view found Redis down (or lost its database connection) answers a plain 503 page
    with Retry-After instead of a 500. (API views answer a 503 in the API's error format, through
    digitsite.api.)"""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, UNAVAILABLE):
            return None
        log_unavailable(exception)
        response = render(request, "503.html", status=503)
        response["Retry-After"] = str(settings.SERVICE_RETRY_AFTER_S)
        return response
