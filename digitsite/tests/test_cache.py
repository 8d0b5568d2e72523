"""The Redis cache the platform runs on (throttles, lockouts), against the real Redis."""

import secrets
import threading

from django.conf import settings

from digitsite.cache import ReusingRedisCache


def make_cache():
    return ReusingRedisCache(settings.REDIS_URL, {"KEY_PREFIX": f"test-{secrets.token_hex(4)}"})


def test_values_round_trip_and_expire_on_the_real_redis():
    cache = make_cache()
    cache.set("history", [1.5, 2.5], timeout=30)
    assert cache.get("history") == [1.5, 2.5]
    assert cache.add("history", "other") is False
    cache.set("count", 0)
    assert cache.incr("count") == 1
    cache.set("gone", 1, timeout=0)  # Django: a zero timeout expires at once
    assert cache.get("gone") is None
    cache.delete_many(["history", "count"])
    assert cache.get_many(["history", "count"]) == {}


def test_every_thread_shares_one_client():
    cache = make_cache()
    clients = []

    def take():
        clients.append(cache._cache.get_client(write=True))

    threads = [threading.Thread(target=take) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(client) for client in clients}) == 1
    assert clients[0] is cache._cache.get_client(write=False)
