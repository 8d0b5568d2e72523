from django.http import HttpResponse

from .errors import TemporarilyUnavailable


class TemporarilyUnavailableMiddleware:
    """Web pages answer a dependency's outage (e.g. the file storage) with 503 and Retry-After, not 500.
    The API answers it in its own error format (digitsite.api.exception_handler)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, TemporarilyUnavailable):
            return None
        response = HttpResponse(str(exception), status=503, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = exception.retry_after
        return response
