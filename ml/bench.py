"""Speed and memory of the recognition engine on this machine.

    python -m ml.bench [--mnist PATH] [--json]

Single-image latency (decode + preprocess + infer of a 280x280 PNG drawing, as the
web page sends it), batch throughput on the 10,000 MNIST test images, FLOPs per
image and the GFLOP/s reached, and the resident memory of a process with the model
loaded. Goals: p50 <= 3 ms, >= 2,000 images/s, <= 400 MB.
"""
import argparse
import io
import json
import time

import numpy as np
from PIL import Image, ImageDraw

from ml.data import load_mnist
from ml.inference import get_recognizer

GOALS = {"latency_p50_ms": 3.0, "images_per_s": 2000, "rss_mb": 400}


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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mnist", help="MNIST .npz (Keras layout); default $MNIST_PATH or download")
    parser.add_argument("--runs", type=int, default=2000, help="single-image reads to time")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

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
