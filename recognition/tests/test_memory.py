"""Checking and reading any accepted image takes bounded memory, alone and in a burst (issue 11).

The images are generated: flat ones compress to a few hundred KB however many pixels they claim. Each
measurement runs in a fresh Python, since a process's peak resident size (VmHWM) never goes down.
"""

import json
import os
import secrets
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from PIL import Image
from urllib3 import encode_multipart_formdata

from bench import run as bench
from digitsite.stack import free_port, stop
from ml.tests.synth import draw_digit, encode, flat_png

BASE_DIR = Path(__file__).resolve().parents[2]
MB = 2**20

PRELUDE = """
import json, os, sys, time
os.environ["DJANGO_SETTINGS_MODULE"] = "digitsite.settings"
import django
django.setup()
from django.core.exceptions import ValidationError
from ml.inference import Recognizer
from ml.preprocess import decode_image
from recognition.services import _thumbnail_png, check_image

def peak_mb():
    # VmHWM, not ru_maxrss: ru_maxrss keeps the size of the process that forked this one before exec.
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024

def check(name, data):
    try:
        check_image(name, data)
        return "accepted"
    except ValidationError as error:
        return error.code
"""

# Each case in a child forked after the imports: it starts at the parent's size, and its own peak is
# what the case added. The child makes its own Recognizer, since the parent's runtime threads do not
# survive a fork.
WORST_CASES = PRELUDE + """
small = open(sys.argv[1], "rb").read()
for path in sys.argv[2:]:
    pid = os.fork()
    if pid == 0:
        recognizer = Recognizer(num_threads=1)
        recognizer.read([small])
        data = open(path, "rb").read()
        before, start = peak_mb(), time.perf_counter()
        outcome = check(path, data)
        if outcome == "accepted":
            _thumbnail_png(decode_image(data))  # what the history page makes
        reading = recognizer.read([data])[0]
        print(json.dumps({"case": os.path.basename(path), "outcome": outcome, "read": type(reading).__name__,
                          "added_mb": peak_mb() - before, "s": time.perf_counter() - start}), flush=True)
        os._exit(0)
    os.waitpid(pid, 0)
"""

BURST = PRELUDE + """
from concurrent.futures import ThreadPoolExecutor
normal, *heavy = (open(path, "rb").read() for path in sys.argv[1:])
check("warm.png", normal)
base_mb = peak_mb()
outcomes, waits = [], []

def heavy_upload(data):
    outcomes.append(check("heavy.png", data))

def normal_uploads():
    for _ in range(20):
        start = time.perf_counter()
        outcomes.append(check("digit.png", normal))
        waits.append(time.perf_counter() - start)
        time.sleep(0.05)

# Long-lived threads, as gunicorn's gthread worker has: glibc gives each an arena to keep freed memory in.
start = time.perf_counter()
with ThreadPoolExecutor(max_workers=32) as pool:
    for future in [pool.submit(normal_uploads)] + [pool.submit(heavy_upload, data) for data in heavy]:
        future.result()
rss_after = int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
print(json.dumps({"base_mb": base_mb, "peak_mb": peak_mb(), "rss_after_mb": rss_after,
                  "outcomes": sorted(outcomes), "slowest_normal_s": max(waits)}))
"""


def run_python(code, *paths):
    result = subprocess.run([sys.executable, "-c", code, *map(str, paths)], cwd=BASE_DIR, capture_output=True,
                            text=True, timeout=240)
    assert result.returncode == 0, result.stderr[-3000:]
    return [json.loads(line) for line in result.stdout.splitlines()]


def write(folder, name, data):
    path = folder / name
    path.write_bytes(data)
    return path


def float_tiff(side):
    return encode(Image.new("F", (side, side), 0.5), "TIFF", compression="tiff_adobe_deflate")


# name: (image bytes, what the upload check says)
WORST = {
    # The file from the issue: 322 KB, 1.7 GB to decode whole.
    "png-16-bit-rgba-6300x6300": (lambda: flat_png(6300, 6300, 16, 6), "too_many_pixels"),
    "png-rgba-40mp": (lambda: flat_png(6324, 6324, 8, 6), "too_many_pixels"),
    "png-16-bit-rgba-12mp": (lambda: flat_png(3540, 3540, 16, 6), "accepted"),
    "png-16-bit-grey-40mp": (lambda: flat_png(6324, 6324, 16, 0), "accepted"),
    "png-1-bit-40mp": (lambda: flat_png(6324, 6324, 1, 0), "accepted"),
    "png-rgb-25mp": (lambda: flat_png(5000, 5000, 8, 2), "accepted"),
    "jpeg-40mp": (lambda: encode(Image.new("RGB", (7744, 5164), (240, 236, 230)), "JPEG"), "accepted"),
    "tiff-float-25mp": (lambda: float_tiff(5000), "accepted"),
    "tiff-float-40mp": (lambda: float_tiff(6324), "too_many_pixels"),
    "gif-40mp": (lambda: encode(Image.new("P", (6324, 6324), 0), "GIF"), "accepted"),
}


def test_checking_and_reading_the_worst_images_takes_little_memory(tmp_path):
    small = write(tmp_path, "small.png", encode(draw_digit(4)))
    paths = [write(tmp_path, name, make()) for name, (make, _) in WORST.items()]
    results = {r["case"]: r for r in run_python(WORST_CASES, small, *paths)}
    print("added MB per case:", {name: round(r["added_mb"]) for name, r in results.items()})  # with -s
    assert set(results) == set(WORST)
    for name, (_, outcome) in WORST.items():
        result = results[name]
        assert result["outcome"] == outcome, result
        assert result["read"] == ("Reading" if outcome == "accepted" else "ImageError"), result
        # Decoding whole, the 16-bit RGBA file added 1,500 MB and the float TIFF 900 MB.
        assert result["added_mb"] < 150, result


@pytest.mark.parametrize("heavy", ["png-16-bit-rgba-6300x6300", "png-16-bit-grey-40mp"])
def test_a_burst_of_heavy_uploads_keeps_the_process_small_and_others_served(tmp_path, heavy):
    normal = write(tmp_path, "normal.png", encode(draw_digit(7)))
    path = write(tmp_path, "heavy", WORST[heavy][0]())
    [result] = run_python(BURST, normal, *[path] * 16)
    print(f"{heavy}: peak {result['peak_mb']:.0f} MB, slowest normal check {result['slowest_normal_s']:.3f} s")
    assert result["outcomes"] == sorted(["accepted"] * 20 + [WORST[heavy][1]] * 16)
    assert result["peak_mb"] < 400, result
    assert result["slowest_normal_s"] < 1.0, result




def test_a_gunicorn_worker_stays_small_under_heavy_uploads_and_serves_others(tmp_path, own_redis):
    """16 uploads at once of a 40-megapixel 16-bit PNG to one gunicorn gthread worker in production settings,
    started as bench/run.py starts it, while another user uploads a drawing 20 times."""
    environment = {
        **os.environ, "DIGITS_ENV": "production", "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost", "SECURE_SSL_REDIRECT": "false", "LOG_LEVEL": "WARNING",
        "MEDIA_ROOT": str(tmp_path / "media"), "STATIC_ROOT": str(tmp_path / "static"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "REDIS_URL": own_redis.url,
    }
    bench.manage(environment, "migrate", "--noinput", "-v0")
    heavy_user, other_user = json.loads(bench.shell(environment, bench.MAKE_USERS.format(
        count=2, emails="memory-{}@digits.local", warm_up="memory-warm-up@digits.local")))["users"]
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "digitsite.wsgi", "--bind", f"127.0.0.1:{port}", "--worker-class",
         "gthread", "--workers", "1", "--threads", "32", "--log-level", "warning"],
        cwd=BASE_DIR, env=environment)
    heavy, drawing = WORST["png-16-bit-grey-40mp"][0](), encode(draw_digit(7))

    def upload(token, data):
        body, content_type = encode_multipart_formdata({"image": ("image.png", data, "image/png")})
        request = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/predictions/", data=body, headers={
            "Authorization": f"Token {token}", "Content-Type": content_type})
        start = time.perf_counter()
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, time.perf_counter() - start

    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                upload(other_user, drawing)
                break
            except OSError:
                assert time.monotonic() < deadline, "gunicorn did not answer"
                time.sleep(0.3)
        for _ in range(4):
            upload(other_user, drawing)  # the first requests import and connect
        worker_pid = subprocess.check_output(["pgrep", "-P", str(server.pid)], text=True).split()[0]
        worker = Path(f"/proc/{worker_pid}")

        def megabytes(field):
            return next(int(line.split()[1]) for line in (worker / "status").read_text().splitlines()
                        if line.startswith(field)) / 1024

        before = megabytes("VmRSS:")
        with ThreadPoolExecutor(max_workers=17) as pool:
            others = pool.submit(lambda: [upload(other_user, drawing) for _ in range(20)])
            heavies = [pool.submit(upload, heavy_user, heavy) for _ in range(16)]
            results = [future.result() for future in heavies], others.result()
        figures = {"before": before, "peak": megabytes("VmHWM:"), "after": megabytes("VmRSS:"),
                   "slowest other upload": max(seconds for _, seconds in results[1])}
        print("gunicorn worker under 16 heavy uploads:", {k: round(v, 3) for k, v in figures.items()})
        assert [status for status, _ in [*results[0], *results[1]]] == [202] * 36
        # Decoding whole: peak 2,160 MB, 1,360 MB kept; bounded but in per-thread arenas: 710 MB, 620 MB kept.
        assert figures["peak"] < 400 and figures["after"] < before + 50, figures
        assert figures["slowest other upload"] < 1.0, figures
    finally:
        stop([server])
