"""Tell API requests that wait on a prediction (`?wait=`) the moment it ends, through Redis.

An ended prediction leaves its outcome (the fields its ending stored) in a short-lived Redis
list. A waiter blocks on that list instead of polling the database, and takes the outcome from
it instead of reading the row again; it moves the entry onto the same list (BLMOVE), so the
outcome stays there for anyone else waiting on the prediction.
"""

import json
import logging
from datetime import datetime
from functools import cache

import redis
from django.conf import settings

logger = logging.getLogger(__name__)

OUTCOME_TTL_S = 120


@cache
def _client(url, blocking=False):
    # The blocking wait needs a read timeout longer than the longest wait (redis-py's default, 5 s,
    # would cut a ?wait=10 short); everything else gives up as soon as the other Redis clients do.
    read_timeout = settings.REDIS_TIMEOUT_S + (settings.RECOGNITION_MAX_WAIT_S if blocking else 0)
    return redis.Redis.from_url(
        url, socket_connect_timeout=settings.REDIS_CONNECT_TIMEOUT_S, socket_timeout=read_timeout
    )


def _key(prediction_id):
    return f"digits:prediction-ended:{prediction_id}"


def announce_ended(outcomes):
    """Publish ``{prediction id: {field: value}}`` for predictions whose ending was just committed.

    Best effort: without Redis, waiters read the row when their wait runs out (or fails)."""
    if not outcomes:
        return
    pipeline = _client(settings.REDIS_URL).pipeline(transaction=False)
    for prediction_id, outcome in outcomes.items():
        key = _key(prediction_id)
        pipeline.rpush(key, json.dumps(outcome, default=datetime.isoformat)).expire(key, OUTCOME_TTL_S)
    try:
        pipeline.execute()
    except redis.RedisError:
        logger.warning("Could not announce %d ended prediction(s)", len(outcomes), exc_info=True)


def wait_for_end(prediction_id, timeout):
    """Block up to ``timeout`` (> 0, at most RECOGNITION_MAX_WAIT_S) seconds for the prediction to end;
    its outcome, or None when it has not ended or Redis failed (the row then tells)."""
    key = _key(prediction_id)
    try:
        outcome = _client(settings.REDIS_URL, blocking=True).blmove(key, key, timeout, "RIGHT", "RIGHT")
    except redis.RedisError:
        logger.warning("Waiting on prediction %s failed; the row answers", prediction_id, exc_info=True)
        return None
    return None if outcome is None else json.loads(outcome)
