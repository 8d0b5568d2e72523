"""Settings for the Digits platform, read from the environment (12-factor).

Local defaults need nothing configured: SQLite under var/, Redis on localhost
(``make run`` starts an embedded one when none answers), e-mail to the console.
``DIGITS_ENV=production`` turns on the hardened settings that pass
``manage.py check --deploy``; it then requires SECRET_KEY and ALLOWED_HOSTS.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

PRODUCTION = env("DIGITS_ENV", default="development") == "production"
DEBUG = env.bool("DEBUG", default=not PRODUCTION)

if PRODUCTION:
    SECRET_KEY = env("SECRET_KEY", default="")
    if not SECRET_KEY:
        raise ImproperlyConfigured("Set SECRET_KEY in the environment for production.")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
else:
    SECRET_KEY = env("SECRET_KEY", default="django-insecure-local-development-key-not-for-production")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])

CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "accounts",
    "recognition",
    "batches",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # A 503 with Retry-After, not a 500, from a view that found Redis down.
    "digitsite.middleware.ServiceUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language: the switcher's cookie, else the browser's Accept-Language (pages and API alike).
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: it turns lockouts raised below into 429 pages.
    "axes.middleware.AxesMiddleware",
]

if PRODUCTION:
    # Static files from STATIC_ROOT (collectstatic); runserver serves them itself in development.
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "digitsite.urls"
WSGI_APPLICATION = "digitsite.wsgi.application"
ASGI_APPLICATION = "digitsite.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web server and worker write from separate processes: WAL, a busy timeout and write
    # transactions that take the lock up front keep SQLite from failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file, not memory: the tests' Celery worker thread needs its own connection to the same data.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Accounts: e-mail is the login; django-axes counts failures before Django checks passwords.
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend that also refuses suspended officials, at log-in and on every session request.
    "accounts.backends.MemberBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "profile"
LOGOUT_REDIRECT_URL = "home"

AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# The log-in form's field and the key axes files credentials under (it would default to "email").
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "accounts.throttling.lockout_username"
AXES_LOCKOUT_TEMPLATE = "registration/lockout.html"
AXES_LOCKOUT_CALLABLE = "accounts.throttling.lockout_response"
AXES_RESET_ON_SUCCESS = True
AXES_IPWARE_PROXY_COUNT = env.int("PROXY_COUNT", default=0)
# Log-in, sign-up and password-reset posts per client IP, whatever addresses they name: axes locks out
# one address at a time, this stops one client trying many (accounts.throttling).
ACCOUNT_FORMS_THROTTLE = env("ACCOUNT_FORMS_THROTTLE", default="30/hour")
# An invitation's signed link works this long (and once).
INVITATION_MAX_AGE_DAYS = env.int("INVITATION_MAX_AGE_DAYS", default=7)

# E-mail: console locally; SMTP in production, e.g. EMAIL_URL=smtp+tls://user:pass@host:587
# sets EMAIL_BACKEND, EMAIL_HOST, EMAIL_PORT, EMAIL_HOST_USER, ... from one URL
globals().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Digits <noreply@digits.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("ta", "தமிழ்"), ("hi", "हिन्दी")]  # each named in itself, for the switcher
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = env("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(VAR_DIR / "static")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},  # S3 below when MEDIA_STORAGE=s3
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Uploads are private: no MEDIA_URL is routed; files are served only by views that check the owner.
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(BASE_DIR / "media")))
# Where uploads live: "local" (MEDIA_ROOT, one machine) or "s3" (S3-compatible object storage that web
# processes and workers on any number of machines share). Credentials come from the environment as boto3
# reads them (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or the host's instance role).
MEDIA_STORAGE = env("MEDIA_STORAGE", default="local")
if MEDIA_STORAGE == "s3":
    from botocore.config import Config

    if not env("S3_BUCKET", default=""):
        raise ImproperlyConfigured("MEDIA_STORAGE=s3 needs S3_BUCKET (and S3_ENDPOINT_URL unless on AWS).")
    S3_ENDPOINT_URL = env("S3_ENDPOINT_URL", default=None)
    S3_ADDRESSING_STYLE = env("S3_ADDRESSING_STYLE", default="path" if S3_ENDPOINT_URL else "auto")
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env("S3_BUCKET"),
            "endpoint_url": S3_ENDPOINT_URL,
            "region_name": env("S3_REGION", default=None),
            "location": env("S3_PREFIX", default=""),  # a folder in a shared bucket
            # Private objects: nothing is readable without credentials. The views stream files to
            # their owner; url() (never used) would give a signed URL that expires within a minute.
            "default_acl": "private",
            "querystring_auth": True,
            "querystring_expire": env.int("S3_SIGNED_URL_EXPIRE_S", default=60),
            "file_overwrite": False,
            # Reads are held in memory (uploads are at most RECOGNITION_MAX_UPLOAD_MB), never on local disk.
            "max_memory_size": 0,
            # Fail an unreachable store within seconds, so that a request or a task is not held for minutes.
            # Path-style addressing by default off AWS: MinIO, Ceph and the tests' moto server expect it.
            "client_config": Config(
                signature_version="s3v4",
                s3={"addressing_style": S3_ADDRESSING_STYLE},
                connect_timeout=env.float("S3_TIMEOUT_S", default=5),
                read_timeout=env.float("S3_TIMEOUT_S", default=5),
                retries={"mode": "standard", "max_attempts": 3},
            ),
        },
    }
elif MEDIA_STORAGE != "local":
    raise ImproperlyConfigured(f"MEDIA_STORAGE is {MEDIA_STORAGE!r}; use 'local' or 's3'.")

# Every Redis client gives up soon when Redis is down or hangs, so that a request that needs it answers
# 503 at once (digitsite.api) rather than hang; a blocking ?wait= reads with its own, longer timeout.
REDIS_CONNECT_TIMEOUT_S = env.float("REDIS_CONNECT_TIMEOUT_S", default=1.0)
REDIS_TIMEOUT_S = env.float("REDIS_TIMEOUT_S", default=3.0)
REDIS_CLIENT_OPTIONS = {"socket_connect_timeout": REDIS_CONNECT_TIMEOUT_S, "socket_timeout": REDIS_TIMEOUT_S}
# What a 503 (Redis down, a lost database connection) tells clients to wait before trying again.
SERVICE_RETRY_AFTER_S = env.int("SERVICE_RETRY_AFTER_S", default=5)

# Celery: Redis is the broker; the result backend serves only the health check,
# since the state that users see lives in our own models.
REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = REDIS_URL
CELERY_BROKER_TRANSPORT = "digitsite.broker:Transport"  # redis, with one client per pool
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_RESULT_EXPIRES = timedelta(hours=1)
# A message is acknowledged after its reading is stored, and given back when the worker process
# running it dies; a reading that kills its worker is capped by RECOGNITION_MAX_ATTEMPTS instead.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# Messages a killed worker held come back to the queue after this many seconds (kombu's Redis
# transport; its default is an hour). Longer than a message waits in a live worker (a batch is
# read within RECOGNITION_BATCH_WAIT_S, a retry's countdown is at most 8 s). Every live worker
# looks for such messages every 10 s; kombu's default throttle made that every 100 s.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT_S", default=60),
    "unacked_restore_interval": 10,
    "unacked_restore_throttle": 1,
    # The scan takes a lock in Redis; a worker killed while holding it would stop every scan until the
    # lock expires (kombu's default: 300 s). A scan takes milliseconds.
    "unacked_mutex_expire": 30,
    **REDIS_CLIENT_OPTIONS,
}
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = REDIS_CONNECT_TIMEOUT_S  # the result backend (health check only)
# The worker reads predictions in batches of up to this many, gathered for at most this long;
# each worker process may hold a whole batch of unacknowledged messages.
RECOGNITION_BATCH_SIZE = env.int("RECOGNITION_BATCH_SIZE", default=16)
RECOGNITION_BATCH_WAIT_S = env.float("RECOGNITION_BATCH_WAIT_S", default=0.01)
CELERY_WORKER_PREFETCH_MULTIPLIER = RECOGNITION_BATCH_SIZE
# Celery's Django fixup closes the database connection around every task unless told to reuse it;
# reconnecting cost a third of the worker's time per prediction (CONN_HEALTH_CHECKS catches dead ones).
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1000)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# The sweeper: `celery -A digitsite beat`, one process for the whole platform (see the README). It
# re-queues predictions whose message was lost and fails hopeless ones; /healthz reports its last run.
RECOGNITION_SWEEP_EVERY_S = env.float("RECOGNITION_SWEEP_EVERY_S", default=30)
RECOGNITION_REQUEUE_AFTER_S = env.float("RECOGNITION_REQUEUE_AFTER_S", default=120)
RECOGNITION_GIVE_UP_AFTER_S = env.float("RECOGNITION_GIVE_UP_AFTER_S", default=15 * 60)
# Readings of one prediction that may be started; more mean its image keeps killing the worker.
RECOGNITION_MAX_ATTEMPTS = env.int("RECOGNITION_MAX_ATTEMPTS", default=3)
# /healthz says the workers take no work when predictions wait this long and none ended meanwhile.
RECOGNITION_STALLED_AFTER_S = env.float("RECOGNITION_STALLED_AFTER_S", default=60)
CELERY_BEAT_SCHEDULE = {
    "sweep-stale-predictions": {
        "task": "recognition.tasks.sweep_stale_predictions", "schedule": RECOGNITION_SWEEP_EVERY_S,
    },
}

# Throttle counters and other short-lived shared state live in Redis, shared by all web workers.
CACHES = {
    "default": {
        "BACKEND": "digitsite.cache.ReusingRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "digits",
        "OPTIONS": REDIS_CLIENT_OPTIONS,
    }
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "digitsite.api.Pagination",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("API_THROTTLE_ANON", default="60/min"),
        "user": env("API_THROTTLE_USER", default="1200/min"),
    },
    "DEFAULT_PARSER_CLASSES": [
        "digitsite.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "EXCEPTION_HANDLER": "digitsite.api.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "NUM_PROXIES": env.int("PROXY_COUNT", default=0),
}
SPECTACULAR_SETTINGS = {
    # Predictions and batches both have a kind and a status: name each set, keeping the predictions' names.
    "ENUM_NAME_OVERRIDES": {
        "KindEnum": "recognition.models.Prediction.Kind",
        "StatusEnum": "recognition.models.Prediction.Status",
        "BatchKindEnum": "batches.models.Batch.Kind",
        "BatchStatusEnum": [("reading", "reading"), ("read", "read")],
        "ItemStateEnum": "batches.models.BatchItem.State",  # an item's state, before and after a review too
        "AuditActionEnum": "batches.models.ReviewAction.Action",
    },
    "TITLE": "Digits API",
    "DESCRIPTION": (
        "Read handwritten digits. Authenticate with `Authorization: Token <key>` "
        "(POST /api/v1/auth/token/ or the profile page gives the key)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",  # served from our static files: no CDN
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"

# Recognition
RECOGNITION_MAX_UPLOAD_BYTES = env.int("RECOGNITION_MAX_UPLOAD_MB", default=10) * 1024 * 1024
RECOGNITION_MAX_FILES = env.int("RECOGNITION_MAX_FILES", default=20)  # per web upload
RECOGNITION_UNSURE_BELOW = env.float("RECOGNITION_UNSURE_BELOW", default=0.8)
RECOGNITION_MAX_WAIT_S = 10  # the API's ?wait= cap
# Uploads above Django's in-memory limit go to temporary files, never into MEDIA_ROOT unchecked.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# Batches (officials): many images at once, or one .zip of them.
BATCH_MAX_IMAGES = env.int("BATCH_MAX_IMAGES", default=2000)
BATCH_MAX_BYTES = env.int("BATCH_MAX_MB", default=200) * 1024 * 1024
BATCH_DIGIT_ACCEPT_AT = env.float("BATCH_DIGIT_ACCEPT_AT", default=0.99)  # a digit item's auto-accept confidence
# How long (seconds) an item open on a reviewer's screen stays theirs; the queue skips it meanwhile.
REVIEW_CLAIM_S = env.int("REVIEW_CLAIM_S", default=120)
# The web upload form and the API still refuse more than their own limits, with their own messages.
DATA_UPLOAD_MAX_NUMBER_FILES = max(RECOGNITION_MAX_FILES, BATCH_MAX_IMAGES + 1)
# Room for a base64-encoded image of the largest accepted size in a JSON body.
DATA_UPLOAD_MAX_MEMORY_SIZE = RECOGNITION_MAX_UPLOAD_BYTES * 4 // 3 + 64 * 1024
