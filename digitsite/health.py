"""Health of the parts the platform needs: database, Redis, a Celery worker that takes work, and
the sweeper."""

import time

import redis
from celery.exceptions import TimeoutError as CeleryTimeoutError
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from recognition import selectors
from recognition.services import SWEEPER

from .celery import ping

WORKER_TIMEOUT_S = 3.0


def _timed(check):
    started = time.perf_counter()
    try:
        detail = check()
    except Exception as exc:  # a health check reports every failure, whatever its kind
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    result = {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1)}
    if detail:
        result.update(detail)
    return result


def check_database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return {"vendor": connection.vendor}


def check_redis():
    redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1).ping()


def check_worker():
    # expires: a ping nobody took in time is dropped rather than answered by a later worker.
    result = ping.apply_async(expires=WORKER_TIMEOUT_S, retry=False)
    try:
        answer = result.get(timeout=WORKER_TIMEOUT_S)
    except CeleryTimeoutError:
        raise RuntimeError(f"no worker answered within {WORKER_TIMEOUT_S:g} s") from None
    return {"answer": answer}


def check_recognition():
    """A worker can answer the ping and still take no predictions (a wedged consumer)."""
    stalled_after = settings.RECOGNITION_STALLED_AFTER_S
    stalled = selectors.stalled_predictions(stalled_after)
    if stalled:
        raise RuntimeError(f"{stalled} prediction(s) have waited over {stalled_after:g} s and none "
                           "ended meanwhile: the workers take no work")


def check_sweeper():
    last_run = selectors.last_heartbeat(SWEEPER)
    if last_run is None:
        raise RuntimeError("the sweeper has not run yet (celery -A digitsite beat)")
    age = (timezone.now() - last_run).total_seconds()
    if age > 3 * settings.RECOGNITION_SWEEP_EVERY_S:
        raise RuntimeError(f"the sweeper last ran {age:.0f} s ago; it runs every "
                           f"{settings.RECOGNITION_SWEEP_EVERY_S:g} s (celery -A digitsite beat)")
    return {"last_run": last_run.isoformat(), "age_s": round(age, 1)}


def health_report():
    checks = {"database": _timed(check_database), "redis": _timed(check_redis)}
    if checks["redis"]["ok"]:
        checks["worker"] = _timed(check_worker)
    else:
        checks["worker"] = {"ok": False, "error": "skipped: the broker (Redis) does not answer"}
    checks["recognition"] = _timed(check_recognition)
    checks["sweeper"] = _timed(check_sweeper)
    return {"status": "ok" if all(c["ok"] for c in checks.values()) else "error", "checks": checks}


@never_cache
def healthz(request):
    report = health_report()
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)
