"""The click-to-answer benchmark runs end to end: two drawings on its own SQLite database and Redis."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.tests import bench_environment

BASE_DIR = Path(__file__).resolve().parents[2]


@pytest.mark.worker
@pytest.mark.browser
def test_two_drawings_are_timed_and_reported(tmp_path, browser, own_redis):
    # `browser` only for its check: without Chromium this is skipped (failed on CI) like every browser test.
    environment = bench_environment(own_redis.url)
    result = subprocess.run(
        [sys.executable, "-m", "bench.click_to_answer", "--drawings", "2", "--out", str(tmp_path)],
        cwd=BASE_DIR, env=environment, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    figures = json.loads((tmp_path / "click_to_answer.json").read_text())
    assert figures["drawings"] == 2
    click, reading = figures["click_to_answer_ms"], figures["reading_ms"]
    assert 0 < reading["p50"] < click["p50"] <= click["p95"]
    assert "click_to_answer_ms: p50" in result.stdout
