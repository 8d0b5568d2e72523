from .models import UserManager


def lockout_username(request, credentials):
    """django-axes counts failures per normalised e-mail, so case variants share one counter."""
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    return UserManager.normalize_email(username)
