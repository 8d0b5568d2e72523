"""Locust users for the load benchmark: predictions through the API with ?wait, and the home page.

Run by `python -m bench.run`, which starts the stack and passes DIGITS_TOKENS (one API token per
user, as a JSON list) and DIGITS_USER_RATE (requests per second per user; 0 for no pause).
"""

import itertools
import json
import os
import random
import time
from pathlib import Path

import gevent
import numpy
from locust import FastHttpUser, constant, events, stats, task
from urllib3 import encode_multipart_formdata

# The percentiles the old app's report gave.
PERCENTILES = [0.50, 0.60, 0.70, 0.80, 0.90, 0.95, 0.99]
stats.PERCENTILES_TO_REPORT = [*PERCENTILES, 1.0]

SAMPLES = Path(__file__).resolve().parent.parent / "ml" / "tests" / "fixtures"
IMAGES = [
    (digit, *encode_multipart_formdata({"image": (f"canvas_{digit}.png", (SAMPLES / f"canvas_{digit}.png").read_bytes(), "image/png")}))
    for digit in range(10)
]
WAIT_S = 10
MINUTE_S = 60
TOKENS = itertools.cycle(json.loads(os.environ.get("DIGITS_TOKENS", "[]")))
RATE = float(os.environ.get("DIGITS_USER_RATE", 0))


def poisson_pacing(rate):
    """Send on a schedule of exponential gaps averaging 1/rate seconds, kept whatever the answers
    take (a user that falls behind sends at once), so that the users together offer users x rate
    requests per second, at independent random times, as separate client programs would.

    Locust's constant_throughput instead keeps each user on a fixed period, and a burst delays
    everyone in it alike, so that the users fall into step and send in bursts that no real
    population of clients would make.
    """
    def wait_time(user):
        now = time.monotonic()
        user.next_send = getattr(user, "next_send", now) + random.expovariate(rate)
        return max(0.0, user.next_send - now)
    return wait_time


class ApiClient(FastHttpUser):
    """One client program with its own account."""

    wait_time = poisson_pacing(RATE) if RATE else constant(0)

    def on_start(self):
        self.headers = {"Authorization": f"Token {next(TOKENS)}"}
        self.turn = 0
        if RATE:  # a client's first request, too, comes at a random time, not as the run starts
            gevent.sleep(self.wait_time())

    @task(10)
    def predict(self):
        digit, body, content_type = IMAGES[self.turn % len(IMAGES)]
        self.turn += 1
        with self.client.post(
            f"/api/v1/predictions/?wait={WAIT_S}",
            data=body,
            headers={**self.headers, "Content-Type": content_type},
            name="/api/v1/predictions/?wait",  # bench.run reads this name
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
            elif response.json()["status"] != "done":
                response.failure(f"prediction {response.json()['status']}")

    @task(1)
    def home(self):
        self.client.get("/", name="/")


# Every request's latency and failure by the minute of the run it ended in, for the soak's figures.
minutes = {}
clock = {"started": time.monotonic()}


@events.test_start.add_listener
def start_the_clock(environment, **kwargs):
    clock["started"] = time.monotonic()


@events.request.add_listener
def count_by_minute(response_time, exception=None, **kwargs):
    minute = minutes.setdefault(int((time.monotonic() - clock["started"]) // MINUTE_S), {"ms": [], "failures": 0})
    minute["ms"].append(response_time)
    minute["failures"] += exception is not None


@events.quitting.add_listener
def write_statistics(environment, **kwargs):
    """The final figures, after the last request has ended, for bench.run's report."""
    path = os.environ.get("LOCUST_STATS_JSON")
    if not path:
        return
    entries = [*environment.stats.entries.values(), environment.stats.total]
    rows = [
        {
            "method": entry.method or "", "name": entry.name, "requests": entry.num_requests,
            "failures": entry.num_failures, "average": entry.avg_response_time,
            "min": entry.min_response_time or 0, "max": entry.max_response_time,
            "size": entry.avg_content_length, "rps": entry.total_rps, "fail_rps": entry.total_fail_per_sec,
            "percentiles": {f"{round(p * 100)}%": entry.get_response_time_percentile(p) for p in PERCENTILES},
        }
        for entry in entries
    ]
    per_minute = [
        {"minute": number + 1, "requests": len(minute["ms"]), "failures": minute["failures"],
         "p50": float(numpy.percentile(minute["ms"], 50)), "p99": float(numpy.percentile(minute["ms"], 99))}
        for number, minute in sorted(minutes.items())
    ]
    Path(path).write_text(json.dumps({"rows": rows, "minutes": per_minute}, indent=1))
