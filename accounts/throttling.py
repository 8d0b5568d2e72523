from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render

from digitsite.api import error_body

from .models import UserManager


def lockout_username(request, credentials):
    """django-axes counts failures per normalised e-mail, so case variants share one counter."""
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    return UserManager.normalize_email(username)


def lockout_response(request, original_response, credentials):
    """429 after too many failed log-ins: the API's error format for API calls, a page otherwise."""
    message = "Too many failed log-in attempts. Try again later or reset your password."
    retry_after = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    if request.path.startswith("/api/"):
        response = JsonResponse(error_body(429, "locked_out", message), status=429)
    else:
        response = render(request, settings.AXES_LOCKOUT_TEMPLATE,
                          {"cooloff_timedelta": settings.AXES_COOLOFF_TIME}, status=429)
    response["Retry-After"] = retry_after
    return response
