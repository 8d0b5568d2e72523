"""Speed and memory of the recognition engine on this machine.

    python -m ml.bench [--mnist PATH] [--json]
    python -m ml.bench --strings ../shared/data/orand-car-a [--json]

Single-image latency (decode + preprocess + infer of a 280x280 PNG drawing, as the
web page sends it), batch throughput on the 10,000 MNIST test images, FLOPs per
image and the GFLOP/s reached, and the resident memory of a process with the model
loaded. Goals: p50 <= 3 ms, >= 2,000 images/s, <= 400 MB.

--strings times the string reader on the cheque amounts of DIR/images (every file): one field at a time,
bytes to answer, and all of them in batches of STRING_BATCH as the worker reads them, in one process and in
--processes worker processes of one thread each (as `make run` starts CELERY_CONCURRENCY=2 of them on this
2-core machine); and the resident memory of a process holding both models, as a worker does. Goals: p50 <= 20
ms, >= 300 fields/s, <= 300 MB.
"""
import argparse
import io
import json
import multiprocessing
import os
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from ml.data import MNIST_HELP, load_mnist
from ml.inference import get_recognizer

GOALS = {"latency_p50_ms": 3.0, "images_per_s": 2000, "rss_mb": 400}
STRING_GOALS = {"latency_p50_ms": 20.0, "fields_per_s": 300, "rss_mb": 300}
STRING_BATCH = 16  # the worker's RECOGNITION_BATCH_SIZE


def canvas_png(size=280):
    """A '4' drawn with a thick round brush off-centre on a white canvas, as PNG bytes."""
    image = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(image)
    stroke = [(150, 40), (70, 160), (190, 160)]
    draw.line(stroke, fill="black", width=18, joint="curve")
    draw.line([(165, 90), (165, 240)], fill="black", width=18)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def rss_mb():
    """Current resident set size of this process in MB (Linux)."""
    with open("/proc/self/status") as f:
        fields = dict(line.split(":", 1) for line in f)
    return int(fields["VmRSS"].split()[0]) / 1024


_pool_reader = None


def _load_pool_reader():
    global _pool_reader
    from ml.strings import StringReader

    _pool_reader = StringReader(num_threads=1)  # one core each: the processes share the machine


def _read_batch(fields):
    _pool_reader.read(fields)
    return len(fields)


def pool_rate(fields, processes, rounds=3):
    """Fields per second read by ``processes`` worker processes, batches of STRING_BATCH handed out in turn."""
    batches = [fields[i: i + STRING_BATCH] for i in range(0, len(fields), STRING_BATCH)] * rounds
    with multiprocessing.get_context("spawn").Pool(processes, initializer=_load_pool_reader) as pool:
        pool.map(_read_batch, batches[: 4 * processes], chunksize=1)  # load and warm every process
        start = time.perf_counter()
        read = sum(pool.map(_read_batch, batches, chunksize=1))
        return read / (time.perf_counter() - start)


def bench_strings(root, processes=2):
    from ml.strings import get_string_reader

    reader, recognizer = get_string_reader(), get_recognizer()
    fields = [path.read_bytes() for path in sorted((Path(root) / "images").iterdir())]
    recognizer.read_one(canvas_png())
    for data in fields[:50]:
        reader.read_one(data)
    rss = rss_mb()
    latencies = []
    for data in fields:
        start = time.perf_counter()
        reader.read_one(data)
        latencies.append((time.perf_counter() - start) * 1000)
    p50, p99 = np.percentile(latencies, [50, 99]).tolist()
    start = time.perf_counter()
    for i in range(0, len(fields), STRING_BATCH):
        reader.read(fields[i: i + STRING_BATCH])
    one_process = len(fields) / (time.perf_counter() - start)
    rate = pool_rate(fields, processes) if processes > 1 else one_process
    result = {"model_version": reader.version, "fields": len(fields), "latency_p50_ms": round(p50, 2),
              "latency_p99_ms": round(p99, 2), "fields_per_s_one_process": round(one_process),
              "processes": processes, "fields_per_s": round(rate), "batch": STRING_BATCH,
              "rss_mb_both_models": round(rss, 1)}
    result["goals_met"] = {"latency_p50_ms": p50 <= STRING_GOALS["latency_p50_ms"],
                           "fields_per_s": rate >= STRING_GOALS["fields_per_s"],
                           "rss_mb": rss <= STRING_GOALS["rss_mb"]}
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mnist", help=MNIST_HELP)
    parser.add_argument("--runs", type=int, default=2000, help="single-image reads to time")
    parser.add_argument("--strings", type=Path, metavar="DIR", help="time the string reader on DIR/images")
    parser.add_argument("--processes", type=int, default=min(2, os.cpu_count() or 1),
                        help="with --strings: worker processes for the throughput (default: up to 2, the cores)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.strings:
        result = bench_strings(args.strings, args.processes)
        if args.json:
            print(json.dumps(result))
            return
        mark = {True: "ok", False: "MISSED"}
        met = result["goals_met"]
        print(f"String reader {result['model_version']}, {result['fields']} fields")
        print(f"one field, bytes to answer: p50 {result['latency_p50_ms']} ms, p99 {result['latency_p99_ms']} ms"
              f"  [goal p50 <= {STRING_GOALS['latency_p50_ms']} ms: {mark[met['latency_p50_ms']]}]")
        print(f"batches of {STRING_BATCH}, one process: {result['fields_per_s_one_process']} fields/s; "
              f"{result['processes']} processes: {result['fields_per_s']} fields/s"
              f"  [goal >= {STRING_GOALS['fields_per_s']}: {mark[met['fields_per_s']]}]")
        print(f"resident memory with both models loaded: {result['rss_mb_both_models']} MB"
              f"  [goal <= {STRING_GOALS['rss_mb']} MB: {mark[met['rss_mb']]}]")
        return

    recognizer = get_recognizer()
    png = canvas_png()
    for _ in range(50):  # warm caches and the interpreter's buffers
        recognizer.read_one(png)
    rss = rss_mb()  # before the data set is loaded: the model-serving footprint

    latencies, stages = [], []
    for _ in range(args.runs):
        start = time.perf_counter()
        reading = recognizer.read_one(png)
        latencies.append((time.perf_counter() - start) * 1000)
        stages.append([reading.timings[k] for k in ("decode", "preprocess", "infer")])
    p50, p99 = np.percentile(latencies, [50, 99]).tolist()
    decode, preprocess, infer = np.median(stages, axis=0).tolist()

    _, (x_test, _) = load_mnist(args.mnist)
    x = x_test.astype(np.float32) / 255.0
    recognizer.read_arrays(x[:1000])
    rates = []
    for _ in range(3):
        start = time.perf_counter()
        recognizer.read_arrays(x)
        rates.append(len(x) / (time.perf_counter() - start))
    rate = float(np.median(rates))
    flops = recognizer.card["flops_per_image"]

    result = {
        "model_version": recognizer.version, "threads": recognizer.num_threads,
        "single_digit_read": reading.digit,
        "latency_p50_ms": round(p50, 3), "latency_p99_ms": round(p99, 3),
        "latency_median_stages_ms": {"decode": decode, "preprocess": preprocess, "infer": infer},
        "images_per_s": round(rate), "flops_per_image": flops,
        "gflops_per_s": round(flops * rate / 1e9, 1), "rss_mb": round(rss, 1),
    }
    result["goals_met"] = {
        "latency_p50_ms": p50 <= GOALS["latency_p50_ms"],
        "images_per_s": rate >= GOALS["images_per_s"], "rss_mb": rss <= GOALS["rss_mb"]}
    if args.json:
        print(json.dumps(result))
        return
    mark = {True: "ok", False: "MISSED"}
    met = result["goals_met"]
    print(f"Model {recognizer.version}, {recognizer.num_threads} threads; the drawing was read as {reading.digit}")
    print(f"single image, 280x280 PNG: p50 {p50:.2f} ms, p99 {p99:.2f} ms "
          f"(decode {decode:.2f} + preprocess {preprocess:.2f} + infer {infer:.2f} ms)"
          f"  [goal p50 <= {GOALS['latency_p50_ms']} ms: {mark[met['latency_p50_ms']]}]")
    print(f"batch, 10,000 MNIST test images: {rate:,.0f} images/s"
          f"  [goal >= {GOALS['images_per_s']:,}: {mark[met['images_per_s']]}]")
    print(f"compute: {flops / 1e6:.1f} MFLOPs per image, {result['gflops_per_s']} GFLOP/s")
    print(f"resident memory with the model loaded: {rss:.0f} MB"
          f"  [goal <= {GOALS['rss_mb']} MB: {mark[met['rss_mb']]}]")


if __name__ == "__main__":
    main()
