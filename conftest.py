"""Fixtures shared by every app's tests: a real Celery worker and a real browser."""

import gc
import os
import shutil

import pytest
from celery.contrib.testing.worker import start_worker
from django.core.cache import cache
from django.db import connections

from digitsite.celery import app as celery_app
from digitsite.tests.production import RedisServer

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# Chromium's own background traffic is refused on a closed network; keep it quiet.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@pytest.fixture(autouse=True)
def private_cache(settings):
    """Each test counts throttles in a fresh cache of its own, not in the Redis a running stack may share."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()


@celery_app.task(name="tests.close_database_connections")
def close_database_connections():
    connections.close_all()


@pytest.fixture(scope="module")
def celery_worker():
    """A real Celery worker, in a thread of this process, on the real Redis at REDIS_URL."""
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10) as worker:
        yield worker
        # The worker keeps its database connection between tasks (CELERY_DB_REUSE_MAX); a process
        # would drop it on exit, but this thread's would stay open and keep the test database from
        # being dropped at the end of the run.
        close_database_connections.delay().get(timeout=10)
    # Starting, the worker froze what this process held (recognition.tasks.load_the_engine). Frozen
    # objects are never collected, so connections that test threads let go of would stay open and
    # keep the test database from being dropped.
    gc.unfreeze()
    gc.collect()


@pytest.fixture
def own_redis(tmp_path):
    """A redis-server of the test's own, which it may stop and start again; never the shared one.
    Messages a test leaves there go with it: no later test's worker receives them."""
    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM):
        message = f"No Chromium at {CHROMIUM}: run `make test`, which installs it, or set CHROMIUM."
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the ORM calls the tests make
    # around it are still synchronous.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()
