"""Regenerate the sample digits in ml/tests/fixtures/ (needs MNIST and ORAND-CAR-A).

    python -m ml.tests.make_fixtures --mnist ../shared/data/mnist.npz --orand ../shared/data/orand-car-a

canvas_<d>.png: the first MNIST test digit of class d drawn canvas-style (thick black
strokes, off-centre, 400x300). scan_<d>.jpg: the second one as a small grey photo with
uneven light.
orand_<d>.png: a real handwritten digit cropped from a scanned Chilean bank cheque
(ORAND-CAR-A, MIT licence), a writer population outside MNIST.
"""
import argparse
from pathlib import Path

import numpy as np
from PIL import Image

from ml.data import load_mnist, orand_crops
from ml.tests.synth import photo

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def canvas_style(digit, rng):
    big = Image.fromarray(digit).resize((224, 224), Image.Resampling.BICUBIC)
    strokes = Image.fromarray(np.where(np.asarray(big) > 90, 0, 255).astype(np.uint8))
    canvas = Image.new("L", (400, 300), 255)
    canvas.paste(strokes, (int(rng.integers(0, 176)), int(rng.integers(0, 76))))
    return canvas


def scan_style(digit, rng):
    paper = Image.new("L", (100, 90), 255)
    paper.paste(Image.fromarray(255 - digit).resize((70, 70), Image.Resampling.BICUBIC),
                (int(rng.integers(0, 30)), int(rng.integers(0, 20))))
    return photo(paper, paper=(0.5, 0.8), ink_level=0.25, noise=5, seed=int(rng.integers(1000)))


def orand_samples(root, rng):
    """One crop per digit class, picked at random among crops that hold one digit only."""
    candidates = {d: [] for d in range(10)}
    for crop, digit, isolated in orand_crops(root):
        if isolated:
            candidates[digit].append(crop)
    for digit, crops in candidates.items():
        yield digit, crops[rng.integers(len(crops))]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mnist", required=True)
    parser.add_argument("--orand", type=Path, required=True)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(2024)
    _, (x_test, y_test) = load_mnist(args.mnist)
    FIXTURES.mkdir(exist_ok=True)
    for d in range(10):
        first, second = np.flatnonzero(y_test == d)[:2]
        canvas_style(x_test[first], rng).save(FIXTURES / f"canvas_{d}.png", optimize=True)
        scan_style(x_test[second], rng).save(FIXTURES / f"scan_{d}.jpg", quality=85)
    for d, crop in orand_samples(args.orand, rng):
        crop.save(FIXTURES / f"orand_{d}.png", optimize=True)


if __name__ == "__main__":
    main()
