"""ml.bench --strings: its figures come from real reads, in one process and in a pool of worker processes."""

import shutil
from pathlib import Path

from ml import bench

FIXTURES = Path(__file__).parent / "fixtures"


def test_the_string_bench_reads_every_field_in_one_process_and_in_two(tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    for path in sorted(FIXTURES.glob("canvas_*.png")):
        shutil.copy(path, images / path.name)
    result = bench.bench_strings(tmp_path, processes=2)
    assert result["fields"] == len(list(images.iterdir())) > 0
    assert result["processes"] == 2 and result["fields_per_s"] > 0 and result["fields_per_s_one_process"] > 0
    assert 0 < result["latency_p50_ms"] <= result["latency_p99_ms"]
    assert set(result["goals_met"]) == {"latency_p50_ms", "fields_per_s", "rss_mb"}
