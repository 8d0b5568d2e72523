import os

from digitsite.tests.production import STATIC_ROOT


def bench_environment(redis_url):
    """The environment of a benchmark run as a subprocess: its own SQLite database (no DATABASE_URL), its own
    Redis (the test's ``own_redis``: no other test's worker takes its tasks) and the suite's collected static files."""
    environment = {name: value for name, value in os.environ.items() if name != "DATABASE_URL"}
    environment["REDIS_URL"] = redis_url
    environment["STATIC_ROOT"] = str(STATIC_ROOT)
    return environment
