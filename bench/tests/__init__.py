import os
from urllib.parse import urlsplit

from digitsite.tests.production import STATIC_ROOT


def bench_environment(redis_db):
    """The environment of a benchmark run as a subprocess: its own SQLite database (no DATABASE_URL), its own
    Redis database (not the tests' queue) and the suite's collected static files."""
    environment = {name: value for name, value in os.environ.items() if name != "DATABASE_URL"}
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")
    environment["REDIS_URL"] = urlsplit(redis_url)._replace(path=f"/{redis_db}").geturl()
    environment["STATIC_ROOT"] = str(STATIC_ROOT)
    return environment
