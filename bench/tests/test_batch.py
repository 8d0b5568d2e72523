"""The batch benchmark: its parts on a made-up MNIST, and a tiny run end to end on its own stack."""

import io
import subprocess
import sys
import zipfile
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from bench import batch
from bench.tests import bench_environment
from ml.tests.synth import bar_mnist

BASE_DIR = Path(__file__).resolve().parents[2]


@pytest.fixture
def fake_mnist(tmp_path):
    return bar_mnist(tmp_path / "mnist.npz")


def test_a_missing_mnist_says_where_it_looked_and_what_to_do(tmp_path, monkeypatch):
    """Every command that reads MNIST looks at --mnist, then $MNIST_PATH, then ../shared, and downloads nothing."""
    from ml import data

    monkeypatch.delenv("MNIST_PATH", raising=False)
    with pytest.raises(SystemExit, match=f"MNIST not found at {tmp_path / 'none.npz'}: pass --mnist PATH"):
        data.load_mnist(tmp_path / "none.npz")
    monkeypatch.setenv("MNIST_PATH", str(tmp_path / "env.npz"))
    with pytest.raises(SystemExit, match="env.npz"):
        batch.main(["--count", "1"])
    monkeypatch.delenv("MNIST_PATH")
    monkeypatch.setattr(data, "SHARED_MNIST", tmp_path / "shared.npz")
    with pytest.raises(SystemExit, match="shared.npz"):
        data.load_mnist()


def test_five_amounts_make_a_zip_of_readable_pngs_the_same_for_a_seed(fake_mnist):
    with np.load(fake_mnist) as data:
        images, labels = data["x_test"], data["y_test"]
    files = list(batch.amounts(images, labels, 5, seed=3))
    assert [name for name, _, _ in files] == [f"amount-000{n}.png" for n in range(5)]
    assert all(label.isdigit() and 1 <= len(label) <= 10 for _, _, label in files)
    assert files == list(batch.amounts(images, labels, 5, seed=3))
    with zipfile.ZipFile(io.BytesIO(batch.zip_of((name, data) for name, data, _ in files))) as bundle:
        assert bundle.namelist() == [name for name, _, _ in files]
        image = Image.open(io.BytesIO(bundle.read("amount-0002.png")))
        assert image.format == "PNG" and image.mode == "L" and image.width > image.height


def test_accuracy_counts_right_readings_and_automatic_acceptances():
    labels = {"a.png": "12", "b.png": "7", "c.png": "300", "d.png": "5"}
    rows = [{"file_name": "a.png", "reading": "12", "state": "auto_accepted"},
            {"file_name": "b.png", "reading": "1", "state": "auto_accepted"},
            {"file_name": "c.png", "reading": "300", "state": "needs_review"},
            {"file_name": "d.png", "reading": "", "state": "failed"}]
    assert batch.accuracy(rows, labels) == {"exact": 0.5, "auto_accepted": 0.5, "auto_right": 0.5}


def test_the_report_states_the_figures_and_the_goal():
    args = SimpleNamespace(count=1000, seed=0, web_workers=2, web_threads=32, celery=2, celery_pool="solo")
    counts = {"total": 1000, "failed": 0}
    first = {"counts": counts, "zip_mb": 4.2, "answered_s": 3.21, "to_last_s": 8.0, "items_per_s": 125.0,
             "reading_items_per_s": 150.0}
    second = {"counts": {"total": 2000}, "to_last_s": 19.0, "items_per_s": 105.3}
    exports = [{"format": "csv", "rows": 2000, "mb": 0.25, "first_byte_s": 0.031, "seconds": 0.4,
                "rss_before": 140.2, "rss_peak": 143.9}]
    text = batch.report(args, datetime(2026, 11, 26, 1, 2, tzinfo=timezone.utc), "sqlite", first,
                        {"exact": 0.9, "auto_accepted": 0.25, "auto_right": 1.0}, second, exports)
    assert "2026-11-26 01:02 UTC · 1,000 amount fields" in text
    assert "| 4.2 MB | 3.2 s | **8.0 s** | **125.0** | 150.0 | 25.0 % | 100.0 % | 90.0 % | 0 |" in text
    assert "at least 100 items/s with the string reader: met." in text
    assert "| CSV | 2,000 | 0.25 MB | 31 ms | **0.40 s** | 140 MB | **144 MB** |" in text


@pytest.mark.worker
def test_a_tiny_run_reads_every_item_and_exports_them(tmp_path, fake_mnist, own_redis):
    environment = bench_environment(own_redis.url)
    result = subprocess.run(
        [sys.executable, "-m", "bench.batch", "--mnist", str(fake_mnist), "--count", "5",
         "--export-count", "12", "--celery", "1", "--web-workers", "1", "--web-threads", "4", "--out", str(tmp_path)],
        cwd=BASE_DIR, env=environment, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "5 amounts: 5 of 5 read" in result.stdout
    report = (tmp_path / "batch.md").read_text()
    assert "## Reading 5 amounts sent as one zip" in report and "## Export of 12 items" in report
    assert "| CSV | 12 |" in report and "| JSON | 12 |" in report
