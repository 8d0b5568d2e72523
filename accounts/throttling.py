import math
from datetime import timedelta
from functools import wraps

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext
from rest_framework.throttling import SimpleRateThrottle

from digitsite.api import error_body

from .models import UserManager


def lockout_username(request, credentials):
    """django-axes counts failures per normalised e-mail, so case variants share one counter."""
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    return UserManager.normalize_email(username)


def lockout_response(request, original_response, credentials):
    """429 after too many failed log-ins: the API's error format for API calls, a page otherwise."""
    message = gettext("Too many failed log-in attempts. Try again later or reset your password.")
    retry_after = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    if request.path.startswith("/api/"):
        response = JsonResponse(error_body(429, "locked_out", message), status=429)
    else:
        response = render(request, settings.AXES_LOCKOUT_TEMPLATE,
                          {"cooloff_timedelta": settings.AXES_COOLOFF_TIME}, status=429)
    response["Retry-After"] = retry_after
    return response


class AccountFormThrottle(SimpleRateThrottle):
    """Posts to the log-in, sign-up and password-reset forms per client IP, whatever the address they
    name: django-axes locks out one address at a time, this stops one client trying many."""

    scope = "account_forms"

    def get_rate(self):
        return settings.ACCOUNT_FORMS_THROTTLE

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def limit_form_posts(view):
    """Answer a 429 page with Retry-After to posts over ACCOUNT_FORMS_THROTTLE; reading the form is free."""

    @wraps(view)
    def limited(request, *args, **kwargs):
        if request.method == "POST":
            throttle = AccountFormThrottle()
            if not throttle.allow_request(request, None):
                wait = max(1, math.ceil(throttle.wait() or 1))
                retry_at = timezone.now() + timedelta(seconds=wait)
                response = render(request, "registration/throttled.html", {"retry_at": retry_at}, status=429)
                response["Retry-After"] = str(wait)
                return response
        return view(request, *args, **kwargs)

    return limited
