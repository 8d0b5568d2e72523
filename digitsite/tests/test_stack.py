"""`make run`'s launcher: brings up web server, worker and an embedded Redis; Ctrl-C stops them all."""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from digitsite.stack import free_port

BASE_DIR = Path(__file__).resolve().parents[2]


def get_json(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def group_alive(pgid):
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_run_starts_the_platform_with_embedded_redis_and_ctrl_c_stops_it(tmp_path):
    port = free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",  # nothing answers there
        "CELERY_CONCURRENCY": "1",
    }
    launcher = subprocess.Popen(
        [sys.executable, "-m", "digitsite.stack", "run", "--address", f"127.0.0.1:{port}"],
        cwd=BASE_DIR, env=environment, start_new_session=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.monotonic() + 90
        status, report = None, None
        while time.monotonic() < deadline:
            try:
                status, report = get_json(f"http://127.0.0.1:{port}/healthz")
                if status == 200:
                    break
            except (urllib.error.URLError, ConnectionError):
                pass
            time.sleep(1)
        assert status == 200, report
        assert report["checks"]["worker"]["answer"] == "pong"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/signup/", timeout=10) as response:
            assert "Create your account" in response.read().decode()
    finally:
        os.killpg(launcher.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        output, _ = launcher.communicate(timeout=60)
    assert "started an embedded one" in output
    assert launcher.returncode == 0, output
    deadline = time.monotonic() + 15
    while group_alive(launcher.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not group_alive(launcher.pid), "a process started by `make run` outlived Ctrl-C"
