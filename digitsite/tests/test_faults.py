"""Break the production stack's parts while it works: every accepted prediction still ends.

Each test runs gunicorn, Celery and the sweeper as processes in production settings (see
production.py) on a redis-server of its own, which it may kill; never on the machine's shared one.
"""

import threading
import time
import uuid
from collections import Counter
from io import BytesIO

import pytest
from django.db import connection
from PIL import Image, PngImagePlugin

from accounts.services import issue_api_token
from accounts.tests.factories import make_user
from digitsite.celery import app as celery_app
from recognition.models import Prediction
from recognition.tasks import recognize_prediction

from .production import Stack, wait_until

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]




@pytest.fixture
def stack(tmp_path, own_redis):
    stack = Stack(tmp_path / "stack", own_redis.url, CELERY_VISIBILITY_TIMEOUT_S=5, RECOGNITION_SWEEP_EVERY_S=1,
                  RECOGNITION_REQUEUE_AFTER_S=20)
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
    stack.start_sweeper()
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
    # Its unacknowledged messages come back after the visibility timeout (5 s here, 60 s by default)
    # and the restore scan (every 10 s). A message it had popped (BRPOP) but not yet recorded as
    # unacknowledged died with it: the sweeper queues that prediction again (after 20 s here, 120 s
    # by default). CI once lost one so.
    try:
        wait_until(lambda: all_ended(sent), 60, "predictions stayed pending after the worker was killed")
    except AssertionError as error:
        raise AssertionError(f"{error}: {Counter(states().values())}; the workers' log:\n"
                             f"{stack.log('worker')[-4000:]}") from None
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


def test_the_stack_recovers_when_postgresql_drops_its_connections(stack, token):
    if connection.vendor != "postgresql":
        pytest.skip("terminates PostgreSQL backends; this run's database is SQLite (CI runs PostgreSQL)")
    stack.environment["API_THROTTLE_USER"] = "100000/min"
    stack.start_web(threads=8)
    stack.start_worker()
    answers, stop = [], threading.Event()

    def client():
        while not stop.is_set():
            status, body = stack.predict(token)
            answers.append((time.monotonic(), status, body))

    clients = [threading.Thread(target=client) for _ in range(4)]
    for thread in clients:
        thread.start()
    try:
        time.sleep(3)
        terminated_at = time.monotonic()
        for _ in range(3):  # every backend of the stack's processes, three times over
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                               "WHERE datname = current_database() AND pid <> pg_backend_pid()")
                assert cursor.fetchone()[0] > 0
            time.sleep(1)
        time.sleep(4)
    finally:
        stop.set()
        for thread in clients:
            thread.join(30)

    statuses = Counter(status for _, status, _ in answers)
    assert set(statuses) <= {202, 503}, statuses  # clean errors, never a 500
    for _, status, body in answers:
        if status == 503:
            assert body["code"] == "unavailable" and "try again" in body["message"], body
    late = [status for at, status, _ in answers if at > terminated_at + 5]
    assert late and set(late) == {202}, f"no recovery without a restart: {Counter(late)}"
    accepted = sum(1 for _, status, _ in answers if status == 202)
    wait_until(lambda: all_ended(accepted), 40, "accepted predictions did not all end")
    assert all(process.poll() is None for process in stack.processes.values())
    print(f"{len(answers)} requests while PostgreSQL dropped its connections: {dict(statuses)}; "
          f"{accepted} accepted, all ended: {Counter(states().values())}")


def test_uploads_while_redis_restarts_all_end_and_none_is_lost(tmp_path, own_redis, token):
    # The restarted Redis keeps nothing, as the shared one: queued messages are lost with it, and
    # the sweeper queues their predictions again.
    stack = Stack(tmp_path / "stack", own_redis.url, CELERY_VISIBILITY_TIMEOUT_S=5, RECOGNITION_SWEEP_EVERY_S=1,
                  RECOGNITION_REQUEUE_AFTER_S=3, API_THROTTLE_USER="100000/min")
    answers, stop = [], threading.Event()

    def client():
        while not stop.is_set():
            status, body = stack.predict(token)
            answers.append((time.monotonic(), status, body))
            time.sleep(0.02)

    clients = [threading.Thread(target=client) for _ in range(3)]
    try:
        stack.start_web(threads=8)
        stack.start_worker()
        stack.start_sweeper()
        for thread in clients:
            thread.start()
        time.sleep(2)
        own_redis.stop()
        down_at = time.monotonic()
        time.sleep(4)
        own_redis.start()
        up_at = time.monotonic()
        time.sleep(6)
        stop.set()
        for thread in clients:
            thread.join(30)

        statuses = Counter(status for _, status, _ in answers)
        assert set(statuses) <= {202, 503}, statuses  # never a 500
        assert statuses[503] > 0, "no request met the outage; the test proves nothing"
        for _, status, body in answers:
            if status == 503:
                assert body["code"] == "unavailable" and body["message"], body
        late = [status for at, status, _ in answers if at > up_at + 3]
        assert late and set(late) == {202}, f"the API did not recover: {Counter(late)}"
        accepted = {body["id"] for _, status, body in answers if status == 202}
        wait_until(lambda: all_ended(len(states())), 60, "predictions stayed pending after Redis came back")
        assert accepted <= {str(pk) for pk in states()}, "an accepted upload was lost"
        assert set(states().values()) == {"done"}
        print(f"{len(answers)} requests around a {up_at - down_at:.0f} s Redis outage: {dict(statuses)}; "
              f"{len(states())} stored, all done")
    finally:
        stop.set()
        stack.stop()
