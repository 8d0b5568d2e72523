"""Settings come from the environment; production mode passes `check --deploy`."""

import json
import secrets
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]

SHOW_SETTINGS = """
import json, django
from django.conf import settings
django.setup()
db = settings.DATABASES["default"]
print(json.dumps({
    "DEBUG": settings.DEBUG, "ALLOWED_HOSTS": settings.ALLOWED_HOSTS, "SECRET_KEY": settings.SECRET_KEY,
    "ENGINE": db["ENGINE"], "NAME": str(db["NAME"]), "HOST": db.get("HOST"), "USER": db.get("USER"),
    "BROKER": settings.CELERY_BROKER_URL, "MEDIA_ROOT": str(settings.MEDIA_ROOT),
    "EMAIL_BACKEND": settings.EMAIL_BACKEND, "EMAIL_HOST": settings.EMAIL_HOST,
    "EMAIL_PORT": settings.EMAIL_PORT, "EMAIL_USE_TLS": settings.EMAIL_USE_TLS,
    "SESSION_COOKIE_SECURE": settings.SESSION_COOKIE_SECURE, "HSTS": settings.SECURE_HSTS_SECONDS,
}))
"""


def run_python(code_or_args, environment):
    args = ["-c", code_or_args] if isinstance(code_or_args, str) else code_or_args
    clean = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "digitsite.settings", **environment}
    return subprocess.run([sys.executable, *args], cwd=BASE_DIR, env=clean, capture_output=True, text=True)


def settings_with(**environment):
    result = run_python(SHOW_SETTINGS, environment)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_local_defaults_need_no_configuration():
    loaded = settings_with()
    assert loaded["DEBUG"] is True
    assert loaded["ENGINE"] == "django.db.backends.sqlite3"
    assert loaded["NAME"] == str(BASE_DIR / "var" / "db.sqlite3")
    assert loaded["BROKER"] == "redis://127.0.0.1:6379/0"
    assert loaded["MEDIA_ROOT"] == str(BASE_DIR / "media")
    assert loaded["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"


def test_settings_are_read_from_the_environment():
    loaded = settings_with(
        DATABASE_URL="postgres://digits:pw@db.internal:5432/digits",
        REDIS_URL="redis://cache.internal:6380/2",
        SECRET_KEY="from-the-environment",
        DEBUG="false",
        ALLOWED_HOSTS="digits.example.com,api.digits.example.com",
        MEDIA_ROOT="/srv/digits/media",
        EMAIL_URL="smtp+tls://mailer:secret@smtp.example.com:587",
    )
    assert loaded["DEBUG"] is False
    assert loaded["SECRET_KEY"] == "from-the-environment"
    assert loaded["ALLOWED_HOSTS"] == ["digits.example.com", "api.digits.example.com"]
    assert loaded["ENGINE"] == "django.db.backends.postgresql"
    assert (loaded["NAME"], loaded["HOST"], loaded["USER"]) == ("digits", "db.internal", "digits")
    assert loaded["BROKER"] == "redis://cache.internal:6380/2"
    assert loaded["MEDIA_ROOT"] == "/srv/digits/media"
    assert loaded["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert (loaded["EMAIL_HOST"], loaded["EMAIL_PORT"], loaded["EMAIL_USE_TLS"]) == ("smtp.example.com", 587, True)


def production_environment():
    return {
        "DIGITS_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "digits.example.com",
    }


def test_production_needs_a_secret_key_from_the_environment():
    environment = production_environment()
    del environment["SECRET_KEY"]
    result = run_python(SHOW_SETTINGS, environment)
    assert result.returncode != 0
    assert "Set SECRET_KEY in the environment for production." in result.stderr


def test_production_settings_are_hardened():
    loaded = settings_with(**production_environment())
    assert loaded["DEBUG"] is False
    assert loaded["SESSION_COOKIE_SECURE"] is True
    assert loaded["HSTS"] >= 31536000


def test_check_deploy_is_clean_in_production_mode():
    result = run_python(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_environment())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


SHOW_STORAGE = """
import json, django
from django.conf import settings
django.setup()
default = settings.STORAGES["default"]
options = {name: value for name, value in default.get("OPTIONS", {}).items() if name != "client_config"}
print(json.dumps({"BACKEND": default["BACKEND"], "OPTIONS": options}))
"""
S3_ENVIRONMENT = {
    "MEDIA_STORAGE": "s3", "S3_BUCKET": "digits-uploads", "S3_ENDPOINT_URL": "https://objects.internal:9000",
    "S3_REGION": "eu-west-1",
}


def test_uploads_are_in_the_local_folder_by_default():
    result = run_python(SHOW_STORAGE, {})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["BACKEND"] == "django.core.files.storage.FileSystemStorage"


def test_media_storage_s3_keeps_uploads_private_in_the_bucket():
    result = run_python(SHOW_STORAGE, S3_ENVIRONMENT)
    assert result.returncode == 0, result.stderr
    storage = json.loads(result.stdout)
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    options = storage["OPTIONS"]
    assert (options["bucket_name"], options["endpoint_url"], options["region_name"]) == (
        "digits-uploads", "https://objects.internal:9000", "eu-west-1"
    )
    assert options["default_acl"] == "private"
    assert options["querystring_auth"] is True and options["querystring_expire"] <= 300
    assert options["file_overwrite"] is False
    assert "access_key" not in options  # credentials stay in the environment, read by boto3


def test_media_storage_s3_without_a_bucket_fails_clearly():
    environment = {**production_environment(), **S3_ENVIRONMENT}
    del environment["S3_BUCKET"]
    result = run_python(["manage.py", "check", "--deploy"], environment)
    assert result.returncode != 0
    assert "MEDIA_STORAGE=s3 needs S3_BUCKET" in result.stderr


def test_an_unknown_media_storage_fails_clearly():
    result = run_python(SHOW_STORAGE, {"MEDIA_STORAGE": "ftp"})
    assert result.returncode != 0
    assert "use 'local' or 's3'" in result.stderr


def test_check_deploy_is_clean_in_production_mode_with_s3():
    result = run_python(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        {**production_environment(), **S3_ENVIRONMENT},
    )
    assert result.returncode == 0, result.stdout + result.stderr
