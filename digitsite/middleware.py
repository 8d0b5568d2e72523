from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render

from .api import UNAVAILABLE, ServiceUnavailable, error_body, unavailable


class ServiceUnavailableMiddleware:
    """A view that found Redis down answers 503 with Retry-After instead of a 500: a plain page, or the
    API's error format under /api/ (API views answer so themselves, through digitsite.api)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, UNAVAILABLE):
            return None
        unavailable(exception)
        if request.path.startswith("/api/"):
            error = ServiceUnavailable()
            response = JsonResponse(error_body(503, error.default_code, str(error.detail)), status=503)
        else:
            response = render(request, "503.html", status=503)
        response["Retry-After"] = str(settings.SERVICE_RETRY_AFTER_S)
        return response
