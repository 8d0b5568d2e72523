"""Click-to-answer: how long a person waits from the click on "Read it" to the answer on the screen.

    python -m bench.click_to_answer [--drawings 20] [--out var/bench-click]

Starts the production stack on this machine as bench.run does (gunicorn gthread, one solo Celery
worker, Redis at REDIS_URL when it answers, else an embedded one, a fresh SQLite file under --out),
logs in with Chromium (Playwright), and draws a 7 on the draw page --drawings times. Each time it
measures, in the page, from the click event on "Read it" to the first frame drawn after the digit appeared,
on the draw page or on a result page it navigated to (a MutationObserver that every page gets before its
own scripts; the times are performance.timeOrigin-based, comparable across a navigation), and notes how
long the reading itself took (the answer's "read in … ms"). Prints p50 and p95 of both and of the
difference, and writes them to OUT/click_to_answer.json. Two warm-up drawings (which also wait for the
worker to start) are not counted.
"""

import argparse
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

from bench.run import manage, shell, wait_for_http
from conftest import CHROMIUM, CHROMIUM_ARGS
from digitsite.stack import BASE_DIR, celery, collect_static, free_port, redis_service, say, stop

EMAIL = "click-bench@digits.local"
PASSWORD = secrets.token_urlsafe(16)
MAKE_USER = """
from accounts.models import User
User.objects.filter(email="{email}").delete()
User.objects.create_user("{email}", password="{password}")
print("ok")
"""
WARM_UP = 2
# In every page, before its own scripts: note when "Read it" is clicked (the event's own time, kept in
# sessionStorage across a navigation to the result page) and the first frame drawn after the digit appeared.
WATCH_ANSWER = """(() => {
  document.addEventListener("click", (event) => {
    if (event.target.closest("#submit-drawing")) {
      sessionStorage.setItem("clicked", performance.timeOrigin + event.timeStamp);
    }
  }, { capture: true });
  const watcher = new MutationObserver(() => {
    const digit = document.getElementById("digit");
    if (!digit || !digit.textContent.trim()) return;
    watcher.disconnect();
    requestAnimationFrame(() => {
      const clicked = Number(sessionStorage.getItem("clicked"));
      window.answeredAfter = performance.timeOrigin + performance.now() - clicked;
    });
  });
  watcher.observe(document, { childList: true, subtree: true, characterData: true });
})();"""


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def draw_seven(page, steps=8):
    """A 7 drawn with the mouse on the drawing page's pad (the browser tests draw it too)."""
    box = page.locator("#pad").bounding_box()

    def at(x, y):
        return box["x"] + x * box["width"], box["y"] + y * box["height"]

    page.mouse.move(*at(0.3, 0.25))
    page.mouse.down()
    for x, y in [(0.5, 0.25), (0.7, 0.25), (0.6, 0.45), (0.5, 0.65), (0.42, 0.8)]:
        page.mouse.move(*at(x, y), steps=steps)
    page.mouse.up()


def measure(host, drawings):
    from playwright.sync_api import sync_playwright

    waits, readings = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        page.add_init_script(WATCH_ANSWER)
        page.set_default_timeout(15_000)
        page.goto(host + "/accounts/login/")
        page.fill("input[name=username]", EMAIL)
        page.fill("input[name=password]", PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.get_by_role("heading", name="Your profile").wait_for()
        for number in range(WARM_UP + drawings):
            page.goto(host + "/draw/")
            page.wait_for_load_state()
            draw_seven(page, steps=4)
            page.get_by_role("button", name="Read it").click()
            waited = page.wait_for_function("window.answeredAfter").json_value()
            read_ms = float(page.locator(".meta").inner_text().split("read in ")[1].split(" ms")[0])
            if number >= WARM_UP:
                waits.append(waited)
                readings.append(read_ms)
        browser.close()
    return waits, readings


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.click_to_answer", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--drawings", type=int, default=20)
    parser.add_argument("--out", type=Path, default=BASE_DIR / "var" / "bench-click")
    args = parser.parse_args(argv)

    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(out / "media", ignore_errors=True)
    database = out / "click.sqlite3"
    for path in (database, *out.glob("click.sqlite3-*")):
        path.unlink(missing_ok=True)
    environment = {
        **os.environ,
        "DIGITS_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "localhost,127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",  # plain HTTP on loopback; Chromium keeps Secure cookies for localhost
        "MEDIA_ROOT": str(out / "media"),
        "STATIC_ROOT": os.environ.get("STATIC_ROOT", str(out / "static")),
        "DATABASE_URL": f"sqlite:///{database}",
        "LOG_LEVEL": "WARNING",
    }
    with redis_service() as redis_url:
        environment["REDIS_URL"] = redis_url
        manage(environment, "migrate", "--noinput", "-v0")
        collect_static(environment)
        shell(environment, MAKE_USER.format(email=EMAIL, password=PASSWORD))
        port = free_port()
        host = f"http://localhost:{port}"
        processes = [
            subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "digitsite.wsgi", "--bind", f"127.0.0.1:{port}",
                 "--worker-class", "gthread", "--workers", "2", "--threads", "8", "--log-level", "warning"],
                cwd=BASE_DIR, env=environment,
            ),
            subprocess.Popen(
                celery("worker", "--loglevel", "WARNING", "--pool", "solo", "--hostname", "click@%h",
                       "--without-gossip", "--without-mingle", "--without-heartbeat"),
                cwd=BASE_DIR, env=environment,
            ),
        ]
        try:
            wait_for_http(f"http://127.0.0.1:{port}/accounts/login/")  # the worker: the warm-up
            waits, readings = measure(host, args.drawings)
        finally:
            stop(processes)
    beyond = [wait - read for wait, read in zip(waits, readings)]
    figures = {
        name: {"p50": round(statistics.median(values), 1), "p95": round(percentile(values, 0.95), 1)}
        for name, values in (
            ("click_to_answer_ms", waits), ("reading_ms", readings), ("beyond_reading_ms", beyond),
        )
    }
    figures["drawings"] = len(waits)
    (out / "click_to_answer.json").write_text(json.dumps(figures, indent=2) + "\n")
    for name in ("click_to_answer_ms", "reading_ms", "beyond_reading_ms"):
        p50, p95 = figures[name]["p50"], figures[name]["p95"]
        say(f"{name}: p50 {p50} ms, p95 {p95} ms over {len(waits)} drawings")
    return 0


if __name__ == "__main__":
    sys.exit(main())
