"""Tell API requests that wait on a prediction (`?wait=`) the moment it ends, through Redis.

An ended prediction leaves its outcome (the fields its ending stored) in a short-lived Redis
list. A waiter blocks on that list instead of polling the database, and takes the outcome from
it instead of reading the row again; it moves the entry onto the same list (BLMOVE), so the
outcome stays there for anyone else waiting on the prediction.
"""

import json
from datetime import datetime
from functools import cache

import redis
from django.conf import settings

OUTCOME_TTL_S = 120


@cache
def _client():
    return redis.Redis.from_url(settings.REDIS_URL)


def _key(prediction_id):
    return f"digits:prediction-ended:{prediction_id}"


def announce_ended(outcomes):
    """Publish ``{prediction id: {field: value}}`` for predictions whose ending was just committed."""
    if not outcomes:
        return
    pipeline = _client().pipeline(transaction=False)
    for prediction_id, outcome in outcomes.items():
        key = _key(prediction_id)
        pipeline.rpush(key, json.dumps(outcome, default=datetime.isoformat)).expire(key, OUTCOME_TTL_S)
    pipeline.execute()


def wait_for_end(prediction_id, timeout):
    """Block up to ``timeout`` (> 0) seconds for the prediction to end; its outcome, or None."""
    key = _key(prediction_id)
    outcome = _client().blmove(key, key, timeout, "RIGHT", "RIGHT")
    return None if outcome is None else json.loads(outcome)
