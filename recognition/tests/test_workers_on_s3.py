"""Workers on more than one machine: a web process and two Celery workers that share no disk, only
object storage (moto's S3-compatible server), the database and Redis, read every prediction.

The stack runs in subprocesses on its own SQLite file and a redis-server of its own, so that no other worker
of the test run (or of `make run`) takes its tasks, and no message another test left reaches its workers.
"""

import json
import os
import re
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import boto3
import pytest
from urllib3 import encode_multipart_formdata

from digitsite.stack import free_port, stop, sweeper

pytestmark = pytest.mark.worker

BASE_DIR = Path(__file__).resolve().parents[2]
SEVEN = (BASE_DIR / "ml" / "tests" / "fixtures" / "canvas_7.png").read_bytes()
BUCKET = "digits-uploads"
PREDICTIONS = 24
MAKE_TOKEN = """
from accounts.models import User
from accounts.services import issue_api_token
print(issue_api_token(User.objects.create_user("owner@example.com")).key)
"""


def wait_for(check, what, timeout, processes=()):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        for process in processes:
            assert process.poll() is None, f"{process.args[:4]} exited while waiting for {what}"
        time.sleep(0.3)
    raise AssertionError(f"no {what} within {timeout} s")


def answers(url):
    try:
        with urllib.request.urlopen(url, timeout=10):
            return True
    except OSError:  # refused, timed out, or an error status such as 503
        return False


def api(host, token, path, data=None):
    headers = {"Authorization": f"Token {token}"}
    if data is not None:
        data, headers["Content-Type"] = encode_multipart_formdata({"image": ("seven.png", data, "image/png")})
    method = "POST" if data else "GET"
    request = urllib.request.Request(host + path, data=data, headers=headers, method=method)
    with urllib.request.urlopen(request, timeout=15) as response:
        return response.status, response.read()


def files_under(folder):
    return sorted(str(path.relative_to(folder)) for path in Path(folder).rglob("*") if path.is_file())


@pytest.fixture
def s3_server(tmp_path):
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: answers(f"{endpoint}/moto-api/"), "S3 server", 30, [server])
        yield endpoint
    finally:
        stop([server])




def test_two_workers_without_a_shared_disk_read_every_prediction(tmp_path, s3_server, own_redis):
    started = time.monotonic()
    bucket = boto3.client(
        "s3", endpoint_url=s3_server, region_name="us-east-1", aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    bucket.create_bucket(Bucket=BUCKET)
    machines = {name: tmp_path / name for name in ("web", "worker-a", "worker-b")}
    (tmp_path / "static").mkdir()
    for folder in machines.values():
        (folder / "media").mkdir(parents=True)
        (folder / "tmp").mkdir()
    common = {
        **{name: value for name, value in os.environ.items() if name not in ("DATABASE_URL", "MEDIA_ROOT")},
        "PYTHONPATH": str(BASE_DIR),
        "DIGITS_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "STATIC_ROOT": str(tmp_path / "static"),
        "LOG_LEVEL": "WARNING",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "REDIS_URL": own_redis.url,  # a Redis of its own: no message of another test reaches its workers
        "MEDIA_STORAGE": "s3",
        "S3_BUCKET": BUCKET,
        "S3_ENDPOINT_URL": s3_server,
        "S3_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }

    def machine(name):
        """Each process works in its own empty folder, as on a machine of its own."""
        folder = machines[name]
        return {**common, "MEDIA_ROOT": str(folder / "media"), "TMPDIR": str(folder / "tmp"),
                "HOME": str(folder)}

    manage = [sys.executable, str(BASE_DIR / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], env=machine("web"), cwd=machines["web"],
                   check=True, timeout=120)
    token = subprocess.run(
        [*manage, "shell", "--no-imports", "-c", MAKE_TOKEN], env=machine("web"), cwd=machines["web"],
        check=True, capture_output=True, text=True, timeout=60,
    ).stdout.split()[-1]

    port = free_port()
    host = f"http://127.0.0.1:{port}"
    logs = {name: tmp_path / f"{name}.log" for name in ("worker-a", "worker-b")}
    processes = [subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "digitsite.wsgi", "--bind", f"127.0.0.1:{port}",
         "--worker-class", "gthread", "--workers", "1", "--threads", "8", "--log-level", "warning"],
        cwd=machines["web"], env=machine("web"),
    )]
    # The one sweeper of the platform, on a machine of its own (it keeps its schedule on disk);
    # /healthz answers 200 once it has swept.
    (tmp_path / "sweeper").mkdir()
    processes.append(subprocess.Popen(sweeper(tmp_path / "sweeper", loglevel="WARNING"), cwd=tmp_path / "sweeper",
                                      env=machine("web")))
    for name, log in logs.items():
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "recognition.tests.s3_worker", "worker", "--pool", "solo",
             "--hostname", f"{name}@%h", "--loglevel", "INFO",
             "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=machines[name], env={**machine(name), "LOG_LEVEL": "INFO"}, stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        ))
    try:
        wait_for(lambda: answers(f"{host}/healthz"), "web server", 60, processes)
        # Both take tasks before any is sent, so that the broker hands them to both.
        workers_ready = lambda: all(" ready." in log.read_text() for log in logs.values())  # noqa: E731
        wait_for(workers_ready, "ready workers", 60, processes)

        sent = []
        for _ in range(PREDICTIONS):
            status, body = api(host, token, "/api/v1/predictions/", SEVEN)
            assert status == 202, body
            sent.append(json.loads(body)["id"])

        def every_one_ended():
            return all(json.loads(api(host, token, f"/api/v1/predictions/{pk}/")[1])["status"] != "pending"
                       for pk in sent)

        wait_for(every_one_ended, "end of every prediction", 45, processes)
        outcomes = [json.loads(api(host, token, f"/api/v1/predictions/{pk}/")[1]) for pk in sent]
        # The web process reads the image back from the bucket for its owner.
        assert api(host, token, f"/api/v1/predictions/{sent[0]}/image/") == (200, SEVEN)
    finally:
        stop(processes)

    assert [(outcome["status"], outcome["digit"]) for outcome in outcomes] == [("done", 7)] * PREDICTIONS
    received = {name: set(re.findall(r"received prediction ([0-9a-f-]{36})", log.read_text()))
                for name, log in logs.items()}
    assert set().union(*received.values()) == set(sent)
    assert all(received.values()), f"one worker did all: {received}"
    for name, folder in machines.items():
        assert files_under(folder) == [], f"{name} wrote to its own disk"

    keys = [item["Key"] for item in bucket.list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert len(keys) == PREDICTIONS and all(key.startswith("predictions/") for key in keys)
    with pytest.raises(urllib.error.HTTPError) as unsigned:
        urllib.request.urlopen(f"{s3_server}/{BUCKET}/{keys[0]}", timeout=5)
    assert unsigned.value.code == 403  # private: no public URL
    assert time.monotonic() - started < 90
