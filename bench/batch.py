"""Batch benchmark: read 1,000 cheque-like amounts sent as one zip, then export 2,000 items.

    python -m bench.batch [--mnist PATH] [--count 1000] [--export-count 2000] [--celery 2]

It starts the production stack as bench.run does (gunicorn, Celery worker(s), the sweeper, Redis at
REDIS_URL or an embedded one, a fresh SQLite database under var/bench/ unless DATABASE_URL is set) and
makes one bank official with an API token. The amounts are drawn by ml.synth_strings.LineSynth from the
MNIST **test** digits (never trained on) of --mnist, else $MNIST_PATH, else ../shared/data/mnist.npz.

1. A warm-up batch of 16 amounts is read first, so that what each process does once is not measured.
2. The --count amounts go to POST /api/v1/batches/ as one zip (kind amount); the time to the last item runs
   from sending the request to the last prediction's finished time. Its JSON export gives the share accepted
   automatically and how many readings are right.
3. A batch of --export-count items (the same amounts again, under other names) is read, then exported as CSV
   and as JSON with every item (?all=1), timing each download and sampling the web processes' resident
   memory every 10 ms during it.

Progress is printed while it runs; the report is printed and written to var/bench/batch.md.
"""

import argparse
import io
import json
import os
import threading
import time
import urllib.request
import zipfile
from datetime import datetime, timezone

from urllib3 import encode_multipart_formdata

from bench.run import add_stack_arguments, memory, production_stack, shell
from digitsite.stack import say

OFFICIAL_EMAIL = "batch-bench@digits.local"
WARM_UP_COUNT = 16
GOAL_ITEMS_PER_S = 100
MAKE_OFFICIAL = """
import json
from accounts.models import Organization, User
from accounts.services import issue_api_token
from batches.models import Batch
from recognition.models import Prediction
organization = Organization.objects.get_or_create(name="Bench Bank")[0]
Batch.objects.filter(organization=organization).delete()
Prediction.objects.filter(owner__email="{email}").delete()
user = User.objects.filter(email="{email}").first() or User.objects.create_user("{email}")  # a token only
user.role, user.organization = User.Role.OFFICIAL, organization
user.save()
print(json.dumps({{"token": issue_api_token(user).key}}))
"""
READ_TIMES = """
import json
from django.db.models import Max, Min
from recognition.models import Prediction
times = Prediction.objects.filter(batch_item__batch_id="{batch}").aggregate(
    created=Min("created_at"), first=Min("finished_at"), last=Max("finished_at"))
print(json.dumps({{name: value.isoformat() for name, value in times.items()}}))
"""


def amounts(images, labels, count, seed=0):
    """``count`` (file name, PNG bytes, digits) of cheque-like amount fields, the same for a seed."""
    from PIL import Image

    from ml.synth_strings import LineSynth

    synth = LineSynth(images, labels, seed=seed)
    for number in range(count):
        grey, label = synth.line()
        buffer = io.BytesIO()
        Image.fromarray(grey).save(buffer, "PNG")
        yield f"amount-{number:04d}.png", buffer.getvalue(), label


def zip_of(files):
    """A zip (stored: PNGs are compressed already) of (name, bytes) pairs."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as bundle:
        for name, data in files:
            bundle.writestr(name, data)
    return buffer.getvalue()


class Client:
    def __init__(self, host, token):
        self.host, self.headers = host, {"Authorization": f"Token {token}"}

    def get(self, path):
        request = urllib.request.Request(self.host + path, headers=self.headers)
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())

    def create_batch(self, name, archive):
        body, content_type = encode_multipart_formdata(
            {"name": name, "kind": "amount", "archive": ("amounts.zip", archive, "application/zip")})
        request = urllib.request.Request(self.host + "/api/v1/batches/", data=body, method="POST",
                                         headers={**self.headers, "Content-Type": content_type})
        with urllib.request.urlopen(request, timeout=300) as response:
            return json.loads(response.read())

    def download(self, path):
        """(bytes, seconds to the first byte, seconds in all) of a streamed download."""
        request = urllib.request.Request(self.host + path, headers=self.headers)
        started = time.monotonic()
        chunks, first = [], None
        with urllib.request.urlopen(request, timeout=300) as response:
            while chunk := response.read(65536):
                first = first or time.monotonic() - started
                chunks.append(chunk)
        return b"".join(chunks), first, time.monotonic() - started


def wait_until_read(client, batch_id, label, started, timeout):
    """Poll the batch's counts (the list has them without the items) until no item is pending; the pace
    shown counts from ``started`` (monotonic), when the batch was sent."""
    deadline, last_said = time.monotonic() + timeout, 0.0
    while True:
        batches = client.get("/api/v1/batches/?page_size=100")["results"]
        batch = next(batch for batch in batches if batch["id"] == batch_id)
        counts = batch["counts"]
        ended = counts["total"] - counts["pending"]
        now = time.monotonic()
        if ended == counts["total"] or now - last_said >= 2:
            pace = ended / max(now - started, 1e-9)
            say(f"{label}: {ended:,} of {counts['total']:,} read ({pace:.0f} items/s, "
                f"{counts['auto_accepted']:,} accepted automatically)")
            last_said = now
        if ended == counts["total"]:
            return counts
        if now > deadline:
            raise SystemExit(f"{label}: {counts['pending']:,} items still pending after {timeout} s")
        time.sleep(0.5)


def read_batch(environment, client, name, files, timeout):
    """Send the files as one zip batch and wait for its last item; what was measured."""
    archive = zip_of((file_name, data) for file_name, data, _ in files)
    sent = datetime.now(timezone.utc)
    started = time.monotonic()
    batch = client.create_batch(name, archive)
    answered = time.monotonic() - started
    say(f"{name}: {batch['counts']['total']:,} items created in {answered:.1f} s; reading")
    counts = wait_until_read(client, batch["id"], name, started, timeout)
    times = {key: datetime.fromisoformat(value) for key, value in
             json.loads(shell(environment, READ_TIMES.format(batch=batch["id"]))).items()}
    to_last = (times["last"] - sent).total_seconds()
    reading = (times["last"] - times["created"]).total_seconds()
    return {"id": batch["id"], "counts": counts, "zip_mb": len(archive) / 2**20, "answered_s": answered,
            "to_last_s": to_last, "items_per_s": counts["total"] / to_last,
            "reading_items_per_s": counts["total"] / reading if reading > 0 else None}


def accuracy(rows, labels):
    """Shares of the export's rows read right, accepted automatically, and right among those accepted."""
    right = [row["reading"] == labels[row["file_name"]] for row in rows]
    auto = [ok for row, ok in zip(rows, right) if row["state"] == "auto_accepted"]
    return {"exact": sum(right) / len(rows), "auto_accepted": len(auto) / len(rows),
            "auto_right": sum(auto) / len(auto) if auto else None}


class PeakMemory:
    """The highest resident memory of each web process, sampled every 10 ms while in the ``with`` block."""

    def __init__(self, web):
        self.web, self.peak, self.stopped = web, {}, threading.Event()

    def __enter__(self):
        self.before = memory([self.web])
        self.peak = dict(self.before)
        self.thread = threading.Thread(target=self.sample, daemon=True)
        self.thread.start()
        return self

    def sample(self):
        while not self.stopped.wait(0.01):
            self.take()

    def take(self):
        for name, size in memory([self.web]).items():
            self.peak[name] = max(self.peak.get(name, 0.0), size)

    def __exit__(self, *exc):
        self.stopped.set()
        self.thread.join()
        self.take()


def export(client, batch_id, file_format, web):
    with PeakMemory(web) as rss:
        data, first, seconds = client.download(f"/api/v1/batches/{batch_id}/export.{file_format}?all=1")
    rows = len(json.loads(data)) if file_format == "json" else data.count(b"\n") - 1
    grown = max(rss.peak, key=lambda name: rss.peak[name] - rss.before.get(name, 0.0))
    say(f"export.{file_format}: {rows:,} rows, {len(data) / 2**20:.2f} MB in {seconds:.2f} s")
    return {"format": file_format, "rows": rows, "mb": len(data) / 2**20, "first_byte_s": first,
            "seconds": seconds, "rss_before": rss.before.get(grown, 0.0), "rss_peak": rss.peak[grown]}


def report(args, started, database, first, scores, second, exports):
    counts = first["counts"]
    auto_right = "none accepted" if scores["auto_right"] is None else f"{100 * scores['auto_right']:.1f} %"
    reading = first["reading_items_per_s"]
    lines = [
        "# Batch benchmark",
        "",
        f"{started:%Y-%m-%d %H:%M} UTC · {args.count:,} amount fields drawn by ml.synth_strings.LineSynth "
        f"from MNIST test digits (seed {args.seed}) · "
        f"gunicorn {args.web_workers}x{args.web_threads} threads, "
        f"Celery {args.celery} ({args.celery_pool}) · "
        f"database {database} · {os.cpu_count()} CPU cores "
        f"(shared with whatever else runs) · after a warm-up batch of {WARM_UP_COUNT}",
        "",
        f"## Reading {counts['total']:,} amounts sent as one zip",
        "",
        "| zip | request answered | time to the last item | items/s (from sending) | items/s (from the "
        "batch's creation) | accepted automatically | right when accepted automatically | read exactly right "
        "| failed |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| {first['zip_mb']:.1f} MB | {first['answered_s']:.1f} s | **{first['to_last_s']:.1f} s** | "
        f"**{first['items_per_s']:.1f}** | {'' if reading is None else f'{reading:.1f}'} | "
        f"{100 * scores['auto_accepted']:.1f} % | {auto_right} | {100 * scores['exact']:.1f} % | "
        f"{counts['failed']} |",
        "",
        f"Goal: at least {GOAL_ITEMS_PER_S} items/s with the string reader: "
        f"{'met' if first['items_per_s'] >= GOAL_ITEMS_PER_S else 'not met'}.",
        "",
        f"## Export of {second['counts']['total']:,} items (`?all=1`)",
        "",
        f"The batch read in {second['to_last_s']:.1f} s ({second['items_per_s']:.1f} items/s). Each download "
        "streams from one query read 500 rows at a time; memory is the web process that served it, sampled "
        "every 10 ms.",
        "",
        "| format | rows | size | first byte | whole download | web process RSS before | peak during |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    lines += [f"| {e['format'].upper()} | {e['rows']:,} | {e['mb']:.2f} MB | "
              f"{1000 * e['first_byte_s']:.0f} ms | **{e['seconds']:.2f} s** | {e['rss_before']:.0f} MB | "
              f"**{e['rss_peak']:.0f} MB** |"
              for e in exports]
    return "\n".join(lines) + "\n"


def main(argv=None):
    from ml.data import MNIST_HELP, load_mnist

    parser = argparse.ArgumentParser(prog="python -m bench.batch", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mnist", help=MNIST_HELP)
    parser.add_argument("--count", type=int, default=1000, help="amounts in the measured batch")
    parser.add_argument("--export-count", type=int, default=2000, help="items in the exported batch")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=int, default=900, help="seconds to wait for a batch to be read")
    add_stack_arguments(parser, celery=2)
    args = parser.parse_args(argv)

    _, (images, labels) = load_mnist(args.mnist)
    say(f"Drawing {args.count:,} amounts")
    files = list(amounts(images, labels, args.count, args.seed))
    warm_up = list(amounts(images, labels, WARM_UP_COUNT, args.seed + 1))
    # The exported batch: the same amounts again under other names, as many as asked.
    copies = [(f"copy{n // len(files)}-{files[n % len(files)][0]}", *files[n % len(files)][1:])
              for n in range(args.export_count)]
    labels_of = {name: label for name, _, label in files + copies}

    out = args.out.resolve()
    with production_stack(args) as (environment, host, processes):
        database = environment["DATABASE_URL"].split(":", 1)[0]
        token = json.loads(shell(environment, MAKE_OFFICIAL.format(email=OFFICIAL_EMAIL)))["token"]
        client = Client(host, token)
        read_batch(environment, client, "warm-up", warm_up, args.timeout)
        started = datetime.now(timezone.utc)
        first = read_batch(environment, client, f"{args.count} amounts", files, args.timeout)
        rows = json.loads(client.download(f"/api/v1/batches/{first['id']}/export.json?all=1")[0])
        scores = accuracy(rows, labels_of)
        second = read_batch(environment, client, f"{args.export_count} to export", copies, args.timeout)
        exports = [export(client, second["id"], file_format, processes[0])
                   for file_format in ("csv", "json")]

    text = report(args, started, database, first, scores, second, exports)
    (out / "batch.md").write_text(text)
    print(text)
    say(f"Report written to {out / 'batch.md'}")


if __name__ == "__main__":
    main()
