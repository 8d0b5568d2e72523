"""Tell API requests that wait on a prediction (`?wait=`) the moment it ends, through Redis.

A finished prediction leaves a short-lived token in a Redis list; a waiter blocks on that
list (BLPOP) instead of polling the database, then puts the token back for other waiters.
"""

from functools import cache

import redis
from django.conf import settings

TOKEN_TTL_S = 120


@cache
def _client():
    return redis.Redis.from_url(settings.REDIS_URL)


def _key(prediction_id):
    return f"digits:prediction-ended:{prediction_id}"


def announce_ended(*prediction_ids):
    if not prediction_ids:
        return
    pipeline = _client().pipeline(transaction=False)
    for prediction_id in prediction_ids:
        key = _key(prediction_id)
        pipeline.rpush(key, 1).expire(key, TOKEN_TTL_S)
    pipeline.execute()


def wait_for_end(prediction_id, timeout):
    """Block up to ``timeout`` seconds for the prediction to end; True if it did."""
    key = _key(prediction_id)
    if _client().blpop([key], timeout=timeout) is None:
        return False
    announce_ended(prediction_id)  # put the token back for anyone else waiting on it
    return True
