"""The load benchmark runs end to end: a short run with two users, on its own SQLite database and Redis."""

import subprocess
import sys
from pathlib import Path

import pytest

from bench.tests import bench_environment

BASE_DIR = Path(__file__).resolve().parents[2]


@pytest.mark.worker
def test_a_short_run_writes_a_report_and_counts_every_prediction(tmp_path, own_redis):
    environment = bench_environment(own_redis.url)
    result = subprocess.run(
        [sys.executable, "-m", "bench.run", "--users", "2", "--rate", "10", "--duration", "4", "--out", str(tmp_path)],
        cwd=BASE_DIR, env=environment, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = (tmp_path / "report.md").read_text()
    assert "each sending 10.0 requests/s at Poisson times" in report
    assert "| POST | /api/v1/predictions/?wait |" in report and "| GET | / |" in report
    summary = next(line for line in report.splitlines() if line.startswith("- prediction requests:"))
    sent = int(summary.split(":")[1].split()[0])
    assert sent > 0
    assert f"{sent} (0 failed); predictions stored: {sent} (done {sent}, failed 0, pending 0)" in summary
