"""Load benchmark: start the production stack on this machine, run Locust headless, write a report.

    python -m bench.run [--users 50] [--rate 3] [--duration 60] [--web-workers 2] [--web-threads 32]
                          [--celery 1] [--celery-pool solo|prefork|threads]

The stack: gunicorn (gthread) in production settings, Celery worker(s), Redis (REDIS_URL when it
answers, else an embedded one) and the database at DATABASE_URL (else a fresh SQLite file under
var/bench/). Each Locust user is a client with its own account and API token, under the platform's
normal throttles. Without --rate every user sends its next request as soon as the last is answered
(the most the stack can take); with --rate each user sends that many requests per second on average,
at random (Poisson) times, so that latency is measured at a stated load offered as independent
clients would offer it. A few predictions from another account warm the stack up first (lazy
imports, first connections). Locust runs headless for a fixed time; afterwards the
predictions are counted in the database, so that none is lost or left pending. The report (Markdown,
in the shape of the old app's Locust report) is printed and written to var/bench/report.md.
"""

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from urllib3 import encode_multipart_formdata

from digitsite.stack import BASE_DIR, celery, collect_static, free_port, redis_service, say, stop, sweeper

BENCH_EMAILS = "bench-{}@digits.local"
WARM_UP_EMAIL = "warm-up@digits.local"  # not counted with the bench users' predictions
WARM_UP_PREDICTIONS = 40
PREDICT = "/api/v1/predictions/?wait"  # the name the locustfile gives these requests
COUNT_PREDICTIONS = """
import json
from recognition.models import Prediction
from django.db.models import Count
rows = Prediction.objects.filter(owner__email__startswith="bench-").values("status").annotate(n=Count("pk"))
print(json.dumps({row["status"]: row["n"] for row in rows}))
"""
MAKE_USERS = """
import json
from accounts.models import User
from accounts.services import issue_api_token
from recognition.models import Prediction
Prediction.objects.filter(owner__email__startswith="bench-").delete()
tokens = []
for number in range({count}):
    email = "{emails}".format(number)
    user = User.objects.filter(email=email).first() or User.objects.create_user(email)  # tokens only
    tokens.append(issue_api_token(user).key)
warm_up = User.objects.filter(email="{warm_up}").first() or User.objects.create_user("{warm_up}")
print(json.dumps({{"users": tokens, "warm_up": issue_api_token(warm_up).key}}))
"""


def manage(environment, *args, capture=False):
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=environment, check=True,
        capture_output=capture, text=True,
    )
    return result.stdout.strip().splitlines()[-1] if capture else None


def shell(environment, code):
    """Run Python in the stack's Django settings; its last printed line."""
    return manage(environment, "shell", "--no-imports", "-c", code, capture=True)


def wait_for_http(url, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"{url} did not answer within {timeout} s")


def warm_up(host, token):
    """Send a few predictions before the measured run, so that what each process does once (lazy
    imports, first connections) is not counted as the latency of the load."""
    sample = (BASE_DIR / "ml" / "tests" / "fixtures" / "canvas_7.png").read_bytes()
    body, content_type = encode_multipart_formdata({"image": ("warm-up.png", sample, "image/png")})
    for _ in range(WARM_UP_PREDICTIONS):
        request = urllib.request.Request(
            f"{host}/api/v1/predictions/?wait=10", data=body, method="POST",
            headers={"Authorization": f"Token {token}", "Content-Type": content_type},
        )
        with urllib.request.urlopen(request, timeout=15) as response:
            response.read()


def rss_mb(pid):
    """Resident memory of a process in MB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def memory(processes):
    """RSS of each web and worker process: gunicorn's workers are the children of its master."""
    sizes = {}
    for process in processes:
        name = Path(process.args[2] if process.args[1] == "-m" else process.args[1]).name
        children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
        pids = children.read_text().split() if name == "gunicorn" and children.exists() else [process.pid]
        for number, pid in enumerate(pids):
            sizes[f"{name} {number + 1}" if len(pids) > 1 else f"{name} {process.pid}"] = rss_mb(pid)
    return sizes


def growth(before, after):
    return f"{100 * (after - before) / before:+.1f} %" if before else ""


def stack_environment(out):
    """Production settings for a stack whose uploads, static files and (without DATABASE_URL) fresh SQLite
    database live under ``out``; the last run's are removed."""
    media = out / "media"
    shutil.rmtree(media, ignore_errors=True)  # the last run's uploads
    environment = {
        **os.environ,
        "DIGITS_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",  # plain HTTP on loopback
        "MEDIA_ROOT": str(media),
        "STATIC_ROOT": os.environ.get("STATIC_ROOT", str(out / "static")),
        "LOG_LEVEL": "WARNING",
    }
    if "DATABASE_URL" not in environment:
        database = out / "bench.sqlite3"
        for path in (database, *out.glob("bench.sqlite3-*")):  # with the last run's WAL files
            path.unlink(missing_ok=True)
        environment["DATABASE_URL"] = f"sqlite:///{database}"
    return environment


def prepare(environment):
    manage(environment, "migrate", "--noinput", "-v0")
    collect_static(environment)


def add_stack_arguments(parser, celery=1):
    """The options of the stack a benchmark starts (bench.run, bench.batch)."""
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--web-threads", type=int, default=32)
    parser.add_argument("--celery", type=int, default=celery, help="Celery worker processes")
    # One solo worker costs less CPU per prediction than a prefork pool, whose parent hands each
    # batch to a child process; one core's worth of worker reads far more than the web side sends.
    parser.add_argument("--celery-pool", default="solo", choices=["prefork", "solo", "threads"],
                        help="prefork: one worker with --celery children; solo: --celery separate workers")
    parser.add_argument("--out", type=Path, default=BASE_DIR / "var" / "bench",
                        help="folder for the report, the SQLite database and the uploads (default var/bench)")


@contextmanager
def production_stack(args):
    """The production stack for a benchmark, as add_stack_arguments' options say, on a prepared database and
    its own Redis (or the one answering): yields (environment, base URL, processes) once it answers, and
    stops the processes afterwards."""
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    environment = stack_environment(out)
    with redis_service() as redis_url:
        environment["REDIS_URL"] = redis_url
        prepare(environment)
        host, processes = start_stack(environment, out, args.web_workers, args.web_threads, args.celery,
                                      args.celery_pool)
        try:
            wait_for_http(host + "/healthz")
            yield environment, host, processes
        finally:
            stop(processes)


def start_stack(environment, out, web_workers, web_threads, celery_count, celery_pool):
    """Start gunicorn, the Celery worker(s) and the sweeper on a prepared database; (base URL, processes)."""
    port = free_port()
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "digitsite.wsgi", "--bind", f"127.0.0.1:{port}",
             "--worker-class", "gthread", "--workers", str(web_workers),
             "--threads", str(web_threads), "--log-level", "warning",
             # Longer than any user's pause: at gunicorn's default of 2 s, a connection closed
             # just as its client sends on it loses that request (1 in about 9,000 when paced).
             "--keep-alive", "75"],
            cwd=BASE_DIR, env=environment,
        ),
    ]
    workers = 1 if celery_pool != "solo" else celery_count
    for number in range(workers):
        processes.append(subprocess.Popen(
            celery("worker", "--loglevel", "WARNING", "--pool", celery_pool, "--concurrency",
                   str(celery_count), "--hostname", f"bench{number}@%h",
                   "--without-gossip", "--without-mingle", "--without-heartbeat"),
            cwd=BASE_DIR, env=environment,
        ))
    processes.append(subprocess.Popen(sweeper(out, loglevel="WARNING"), cwd=BASE_DIR, env=environment))
    return f"http://127.0.0.1:{port}", processes


def report(rows, args, counts, database, started, minutes=(), rss=None):
    percentiles = list(rows[0]["percentiles"]) if rows else []
    lines = [
        "# Load benchmark",
        "",
        f"{started:%Y-%m-%d %H:%M} UTC · {args.users} users, spawn rate {args.users}/s, {args.duration} s, "
        f"{f'each sending {args.rate} requests/s at Poisson times' if args.rate else 'no pause between requests'} · "
        f"gunicorn {args.web_workers}x{args.web_threads} threads, Celery {args.celery} ({args.celery_pool}) · "
        f"database {database} · {os.cpu_count()} CPU cores shared with Locust · "
        f"after {WARM_UP_PREDICTIONS} warm-up predictions",
        "",
        "## Request statistics",
        "",
        "| Method | Name | # Requests | # Fails | Average (ms) | Min (ms) | Max (ms) | Average size (bytes) | RPS | Failures/s |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        lines.append(
            f"| {row['method']} | {row['name']} | {row['requests']} | {row['failures']} | {row['average']:.1f} | "
            f"{row['min']:.1f} | {row['max']:.1f} | {row['size']:.0f} | {row['rps']:.1f} | {row['fail_rps']:.1f} |"
        )
    lines += [
        "",
        "## Response time statistics",
        "",
        "| Method | Name | " + " | ".join(f"{p}ile (ms)" for p in percentiles) + " |",
        "| --- | --- | " + " | ".join("---:" for _ in percentiles) + " |",
    ]
    for row in rows:
        lines.append(f"| {row['method']} | {row['name']} | "
                     + " | ".join(str(row["percentiles"][p]) for p in percentiles) + " |")
    sent = sum(row["requests"] for row in rows if row["name"] == PREDICT)
    failed = sum(row["failures"] for row in rows if row["name"] == PREDICT)
    lines += [
        "",
        "## Predictions in the database afterwards",
        "",
        f"- prediction requests: {sent} ({failed} failed); predictions stored: {sum(counts.values())} "
        f"(done {counts.get('done', 0)}, failed {counts.get('failed', 0)}, pending {counts.get('pending', 0)})",
        "",
    ]
    if len(minutes) > 1:
        lines += ["## Every minute (all requests)", "", "| minute | requests | failures | p50 (ms) | p99 (ms) |",
                  "| ---: | ---: | ---: | ---: | ---: |"]
        lines += [f"| {m['minute']} | {m['requests']} | {m['failures']} | {m['p50']:.0f} | {m['p99']:.0f} |"
                  for m in minutes]
        lines.append("")
    if rss:
        # After warm-up, the web workers' threads have not all served yet; the first minute of load
        # grows them to their working size, so growth is also given from there (a leak keeps growing).
        samples = rss["minutes"]
        lines += ["## Memory (RSS) of the web and worker processes", "",
                  "| process | after warm-up (MB) | after minute 1 (MB) | at the end (MB) | growth from minute 1 | "
                  "growth from warm-up |", "| --- | ---: | ---: | ---: | ---: | ---: |"]
        for name, before in rss["start"].items():
            first, after = samples[0].get(name) if samples else None, rss["end"].get(name, 0.0)
            lines.append(f"| {name} | {before:.0f} | {'' if first is None else f'{first:.0f}'} | {after:.0f} | "
                         f"{growth(first, after)} | {growth(before, after)} |")
        if len(samples) > 1:
            lines += ["", "Every minute (MB): " + "; ".join(
                f"{name} " + ", ".join(f"{sample.get(name, 0):.0f}" for sample in samples) for name in rss["start"])]
        lines.append("")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--rate", type=float,
                        help="requests per second per user, at Poisson times (default: no pause)")
    parser.add_argument("--duration", type=int, default=60, help="seconds of load")
    add_stack_arguments(parser)
    args = parser.parse_args(argv)

    out = args.out.resolve()
    with production_stack(args) as (environment, host, processes):
        database_name = environment["DATABASE_URL"].split(":", 1)[0]
        tokens = json.loads(shell(environment, MAKE_USERS.format(
            count=args.users, emails=BENCH_EMAILS, warm_up=WARM_UP_EMAIL)))
        warm_up(host, tokens["warm_up"])
        measured = [process for process in processes if "beat" not in process.args]
        rss = {"start": memory(measured), "minutes": []}
        sampled = threading.Event()

        def sample_every_minute():
            while not sampled.wait(60):
                rss["minutes"].append(memory(measured))

        threading.Thread(target=sample_every_minute, daemon=True).start()
        say(f"Stack up at {host}; Locust: {args.users} users for {args.duration} s")
        started = datetime.now(timezone.utc)
        subprocess.run(
            [sys.executable, "-m", "locust", "-f", str(BASE_DIR / "bench" / "locustfile.py"), "--headless",
             "--users", str(args.users), "--spawn-rate", str(args.users), "--run-time", f"{args.duration}s",
             "--host", host, "--only-summary", "--stop-timeout", "15"],
            cwd=BASE_DIR, check=False,
            env={**environment, "DIGITS_TOKENS": json.dumps(tokens["users"]), "DIGITS_USER_RATE": str(args.rate or 0),
                 "LOCUST_STATS_JSON": str(out / "locust.json")},
        )
        # Let the worker finish what is queued, then count.
        deadline = time.monotonic() + 60
        while True:
            counts = json.loads(shell(environment, COUNT_PREDICTIONS))
            if not counts.get("pending") or time.monotonic() > deadline:
                break
            time.sleep(2)
        sampled.set()
        rss["end"] = memory(measured)

    statistics = json.loads((out / "locust.json").read_text())
    text = report(statistics["rows"], args, counts, database_name, started, statistics["minutes"], rss)
    (out / "report.md").write_text(text)
    print(text)
    say(f"Report written to {out / 'report.md'}")


if __name__ == "__main__":
    main()
