"""Break the production stack's parts while it works: every accepted prediction still ends.

Each test runs gunicorn, Celery and the sweeper as processes in production settings (see
production.py) on a redis-server of its own, which it may kill; never on the machine's shared one.
"""

import time
import uuid
from io import BytesIO

import pytest
from PIL import Image, PngImagePlugin

from accounts.services import issue_api_token
from accounts.tests.factories import make_user
from digitsite.celery import app as celery_app
from recognition.models import Prediction
from recognition.tasks import recognize_prediction

from .production import RedisServer, Stack, wait_until

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def own_redis(tmp_path):
    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def stack(tmp_path, own_redis):
    stack = Stack(tmp_path / "stack", own_redis.url, CELERY_VISIBILITY_TIMEOUT_S=5)
    yield stack
    stack.stop()


@pytest.fixture
def token():
    return issue_api_token(make_user(email="faults@example.com")).key


def states():
    return dict(Prediction.objects.values_list("pk", "status"))


def all_ended(expected):
    current = states()
    return len(current) == expected and "pending" not in current.values()


def test_a_worker_reads_again_after_the_broker_comes_back(stack, own_redis, token):
    """make run's worker (a prefork pool) after Redis was down: celery-batches 0.11 kept its flush
    timer on the old connection, and new predictions waited until 16 had piled up."""
    stack.start_web()
    stack.start_worker(pool="prefork", concurrency=2)
    assert stack.predict(token)[0] == 202
    wait_until(lambda: all_ended(1), 30, "the worker read nothing")
    # A retry waiting out its back-off (tasks._retry) keeps the worker's flush timer armed, as a
    # message that arrives just before the connection drops does.
    with celery_app.connection_for_write(own_redis.url) as connection:
        recognize_prediction.apply_async(args=[str(uuid.uuid4())], countdown=60, connection=connection)
    time.sleep(1)

    own_redis.stop()
    time.sleep(5)
    own_redis.start()
    # The web side answers again once it has reconnected; the worker reconnects on its own.
    wait_until(lambda: stack.predict(token)[0] == 202, 30, "the API did not take predictions again")
    wait_until(lambda: all_ended(2), 20, f"a prediction stayed pending after the reconnect: {states()}")


# A worker that takes its time over each batch, so that the test can kill it mid-way.
SLOW_WORKER = """
import time
from ml import inference
_read = inference.Recognizer.read
inference.Recognizer.read = lambda self, images: time.sleep(0.5) or _read(self, images)
"""


def test_killing_a_worker_mid_batch_loses_no_prediction(stack, token):
    stack.start_web()
    sent = 60
    for _ in range(sent):  # queued before the worker starts, so that it has a backlog to hold
        assert stack.predict(token)[0] == 202
    stack.start_worker(script=SLOW_WORKER)
    wait_until(lambda: "done" in states().values(), 30, "the worker read nothing", interval=0.05)
    stack.kill("worker")  # kill -9, while it holds prefetched, unacknowledged messages
    killed_at = time.monotonic()
    left = list(states().values()).count("pending")
    assert left > 0, "the worker had read everything before it was killed; the test proves nothing"

    stack.start_worker()  # a supervisor (systemd, Kubernetes) starts it again
    # Its messages come back after the visibility timeout (5 s here, 60 s by default) and the
    # restore scan (every 10 s).
    wait_until(lambda: all_ended(sent), 40, "predictions stayed pending after the worker was killed")
    assert set(states().values()) == {"done"}
    print(f"{left} of {sent} were pending when the worker was killed; all done "
          f"{time.monotonic() - killed_at:.1f} s later")


# In the worker process only: reading an image whose PNG text says so kills the process, as a
# decoder crash or the kernel's OOM killer would.
POISON_WORKER = """
import os
from ml import inference
_read = inference.Recognizer.read
def read(self, images):
    if any(b"poison" in image for image in images):
        os.kill(os.getpid(), 9)
    return _read(self, images)
inference.Recognizer.read = read
"""


def poison_png():
    info = PngImagePlugin.PngInfo()
    info.add_text("comment", "poison")
    image = Image.new("L", (28, 28), 0)
    image.paste(255, (10, 4, 16, 24))
    buffer = BytesIO()
    image.save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()


def test_an_image_that_kills_the_worker_is_given_up_and_the_others_are_read(stack, token):
    stack.start_web()
    stack.start_worker(script=POISON_WORKER)
    status, body = stack.predict(token, image=poison_png(), name="poison.png")
    assert status == 202, body
    for _ in range(5):
        assert stack.predict(token)[0] == 202

    restarts = 0

    def supervise():  # start the worker again whenever it died, as systemd would
        nonlocal restarts
        if stack.processes["worker"].poll() is not None:
            restarts += 1
            stack.start_worker(script=POISON_WORKER)
        return all_ended(6)

    wait_until(supervise, 90, f"predictions stayed pending: {states()}", interval=0.5)
    poison = Prediction.objects.get(original_name="poison.png")
    assert poison.status == "failed" and "reader stopped" in poison.error
    assert poison.attempts == 3
    assert list(states().values()).count("done") == 5
    assert 1 <= restarts <= 3  # bounded: no redelivery loop


def test_healthz_tells_when_the_sweeper_died(tmp_path, own_redis, token):
    stack = Stack(tmp_path / "stack", own_redis.url, RECOGNITION_SWEEP_EVERY_S=1)
    try:
        stack.start_web()
        stack.start_worker()
        stack.start_sweeper()
        wait_until(lambda: stack.request("GET", "/healthz")[0] == 200, 30, "the stack did not become healthy")
        stack.kill("sweeper")
        status, report = wait_until(
            lambda: (lambda answer: answer if answer[0] == 503 else None)(stack.request("GET", "/healthz")),
            15, "/healthz still said 200 with the sweeper dead",
        )
        assert report["checks"]["sweeper"]["ok"] is False
        assert "the sweeper last ran" in report["checks"]["sweeper"]["error"]
        assert report["checks"]["worker"]["ok"] is True
    finally:
        stack.stop()
