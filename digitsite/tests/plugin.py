"""A pytest plugin loaded before Django's settings (``-p`` in pyproject.toml): under pytest-xdist each worker
process queues its Celery tasks in a Redis database of its own, as pytest-django gives it a test database of its
own; otherwise one process's worker thread would take the other's tasks, whose rows it cannot see."""

import os
from urllib.parse import urlsplit

from digitsite.stack import DEFAULT_REDIS_URL


def redis_url_for(url, worker):
    """gw0 keeps the database the URL names, gw1 the one below it, and so on (Redis has 16)."""
    parts = urlsplit(url)
    database = (int(parts.path.strip("/") or 0) - int(worker.removeprefix("gw"))) % 16
    return parts._replace(path=f"/{database}").geturl()


# xdist names the worker ("gw0", "gw1", ...) in the environment before pytest, and so this module, starts there.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ["REDIS_URL"] = redis_url_for(os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL,
                                            os.environ["PYTEST_XDIST_WORKER"])
