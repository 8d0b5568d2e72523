"""MNIST loading: a local Keras-layout ``.npz`` file, or the Keras download."""
import hashlib
import os
from pathlib import Path

import numpy as np


def mnist_path(path=None):
    """The local MNIST file to use: the argument, else ``$MNIST_PATH``, else None."""
    path = path or os.environ.get("MNIST_PATH")
    return Path(path) if path else None


def load_mnist(path=None):
    """Return ``(x_train, y_train), (x_test, y_test)`` as uint8 arrays (N, 28, 28) and (N,).

    Without a local file this falls back to ``keras.datasets.mnist``, which
    downloads the data set once and imports TensorFlow.
    """
    path = mnist_path(path)
    if path is None:
        from keras.datasets import mnist

        return mnist.load_data()
    with np.load(path) as data:
        return (data["x_train"], data["y_train"]), (data["x_test"], data["y_test"])


def file_sha256(path):
    """Hex SHA-256 of a file, recorded in the model card to identify the training data."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def orand_crops(root, margin=2):
    """Digit crops from ORAND-CAR-A, real handwriting from scanned cheques (not in MNIST).

    ``root`` holds ``images/`` and ``boxes.json`` ({file: [{"bbox": [x, y, w, h], "digit": d}]}).
    Yields ``(crop, digit, isolated)``: a grey Pillow image, its label, and whether no
    other digit's box comes within the margin (such crops hold one digit only).
    """
    import json

    from PIL import Image

    root = Path(root)
    for name, items in json.loads((root / "boxes.json").read_text()).items():
        page = Image.open(root / "images" / name).convert("L")
        for item in items:
            x, y, w, h = item["bbox"]
            isolated = all(ox > x + w + 2 * margin or ox + ow < x - 2 * margin
                           for ox, _, ow, _ in (o["bbox"] for o in items if o is not item))
            yield page.crop((x - margin, y - margin, x + w + margin, y + h + margin)), item["digit"], isolated
