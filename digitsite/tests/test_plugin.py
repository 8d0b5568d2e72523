"""The test processes of pytest-xdist keep apart in Redis (digitsite.tests.plugin)."""

import os

from django.conf import settings

from digitsite.celery import app as celery_app
from digitsite.tests.plugin import redis_url_for


def test_each_worker_process_gets_a_redis_database_of_its_own():
    url = "redis://:secret@redis.example:6380/15"
    urls = [redis_url_for(url, f"gw{index}") for index in range(4)]
    assert urls == [f"redis://:secret@redis.example:6380/{database}" for database in (15, 14, 13, 12)]
    assert redis_url_for("redis://127.0.0.1:6379", "gw1") == "redis://127.0.0.1:6379/15"


def test_settings_and_celery_read_this_process_s_database():
    """The plugin changes REDIS_URL before Django reads its settings: were it later, every process would
    queue on one database."""
    assert settings.REDIS_URL == settings.CELERY_BROKER_URL == os.environ["REDIS_URL"]
    assert celery_app.conf.broker_url == os.environ["REDIS_URL"]
