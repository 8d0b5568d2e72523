"""MNIST loading (a local Keras-layout ``.npz`` file; nothing is downloaded) and ORAND-CAR-A's fixed split.

    python -m ml.data --write-orand-split ../shared/data/orand-car-a   # rewrites ml/splits/orand-car-a.json
"""
import argparse
import csv
import hashlib
import io
import json
import os
from pathlib import Path

import numpy as np

SPLITS = Path(__file__).resolve().parent / "splits"
SHARED_MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist.npz"  # ../shared beside the repository
# Per cent of files in each split, by a hash of the file name: independent of file order, and a file never moves.
ORAND_SPLIT = {"test": 25, "validation": 20, "train": 55}


MNIST_HELP = "MNIST .npz (Keras layout); default $MNIST_PATH, else ../shared/data/mnist.npz"  # every --mnist


def mnist_path(path=None):
    """The MNIST file to read: the argument, else ``$MNIST_PATH``, else ../shared/data/mnist.npz beside the
    repository. Nothing is downloaded (no command may fetch data): SystemExit saying where it looked."""
    path = Path(path or os.environ.get("MNIST_PATH") or SHARED_MNIST)
    if not path.is_file():
        raise SystemExit(f"MNIST not found at {path}: pass --mnist PATH or set MNIST_PATH to a "
                         "Keras-layout mnist.npz (x_train, y_train, x_test, y_test).")
    return path


def load_mnist(path=None):
    """Return ``(x_train, y_train), (x_test, y_test)`` as uint8 arrays (N, 28, 28) and (N,)."""
    with np.load(mnist_path(path)) as data:
        return (data["x_train"], data["y_train"]), (data["x_test"], data["y_test"])


def mnist_train_split(x, y, validation):
    """MNIST train less its last `validation` images, and those images: the fixed split on which MNIST-side
    choices are made (MNIST test stays unseen). Returns x_train, y_train, (x_val, y_val)."""
    cut = len(x) - validation
    return x[:cut], y[:cut], (x[cut:], y[cut:])


def file_sha256(path):
    """Hex SHA-256 of a file, recorded in the model card to identify the training data."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def orand_crops(root, margin=2, split=None):
    """Digit crops from ORAND-CAR-A, real handwriting from scanned cheques (not in MNIST), of one split's
    files if ``split`` is given.

    ``root`` holds ``images/`` and ``boxes.json`` ({file: [{"bbox": [x, y, w, h], "digit": d}]}).
    Yields ``(crop, digit, isolated)``: a grey Pillow image, its label, and whether no
    other digit's box comes within the margin (such crops hold one digit only).
    """
    from PIL import Image

    root = Path(root)
    for name, items in json.loads((root / "boxes.json").read_text()).items():
        if split and orand_split_of(name) != split:
            continue
        page = Image.open(root / "images" / name).convert("L")
        for item in items:
            x, y, w, h = item["bbox"]
            isolated = all(ox > x + w + 2 * margin or ox + ow < x - 2 * margin
                           for ox, _, ow, _ in (o["bbox"] for o in items if o is not item))
            # Clamped to the page: Pillow fills what lies beyond it with black, which would read as ink.
            box = (max(x - margin, 0), max(y - margin, 0),
                   min(x + w + margin, page.width), min(y + h + margin, page.height))
            yield page.crop(box), item["digit"], isolated


def orand_uploads(root, split=None):
    """The digit crops of ORAND-CAR-A (orand_crops) as uploads arrive: ``(PNG bytes, digit)``; training,
    fitting and evaluation all read them this way."""
    for crop, digit, _ in orand_crops(root, split=split):
        buffer = io.BytesIO()
        crop.save(buffer, format="PNG")
        yield buffer.getvalue(), digit


def orand_split_of(name):
    """The split a file of ORAND-CAR-A belongs to: SHA-256 of "orand-car-a:<file name>" modulo 100, the first
    25 buckets test, the next 20 validation, the rest train."""
    bucket = int(hashlib.sha256(f"orand-car-a:{name}".encode()).hexdigest(), 16) % 100
    for split, share in ORAND_SPLIT.items():
        if bucket < share:
            return split
        bucket -= share


def orand_split(split, path=SPLITS / "orand-car-a.json"):
    """The file names of one split ("train", "validation" or "test") of ORAND-CAR-A, from the shipped list."""
    return json.loads(Path(path).read_text())[split]


def read_labels(root):
    """{file: digit string} from ``root/labels.csv`` (columns file, digits); strings keep leading zeros."""
    with open(Path(root) / "labels.csv", newline="") as f:
        return {row["file"]: row["digits"] for row in csv.DictReader(f)}


def orand_labels(root):
    """ORAND-CAR-A's labels with the corrections of ml/splits/orand-car-a-corrections.json, which never touch
    the test split, for training and validation; figures on the test split use read_labels."""
    labels = read_labels(root)
    corrections = json.loads((SPLITS / "orand-car-a-corrections.json").read_text())["corrections"]
    for name, correction in corrections.items():
        if orand_split_of(name) == "test":
            raise ValueError(f"{name} is a test file; test labels stay as published")
        if labels.get(name) == correction["given"]:
            labels[name] = correction["corrected"]
    return labels


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write-orand-split", type=Path, metavar="DIR", required=True,
                        help="ORAND-CAR-A directory (labels.csv); writes ml/splits/orand-car-a.json")
    args = parser.parse_args(argv)
    names = sorted(read_labels(args.write_orand_split))
    split = {"about": "ORAND-CAR-A (1,080 cheque amounts) split by file: SHA-256 of 'orand-car-a:<file>' mod 100, "
                      "buckets 0-24 test, 25-44 validation, 45-99 train (ml.data.orand_split_of). The test files "
                      "are never used for training or for choosing anything; every quoted figure is on them.",
             **{name: [n for n in names if orand_split_of(n) == name] for name in ORAND_SPLIT}}
    (SPLITS / "orand-car-a.json").write_text(json.dumps(split, indent=1) + "\n")
    print({name: len(split[name]) for name in ORAND_SPLIT})


if __name__ == "__main__":
    main()
