"""How the string reader holds up when the same fields come as other files.

    python -m ml.robustness ../shared/data/orand-car-a --split validation [--only "scale 3" ...] [--json]
    python -m ml.robustness DIR                                # DIR/images, DIR/labels.csv of file,digits

Each change below is made to every field (a scan rescanned at another resolution, with margins, in colour, rotated,
lit from one side, binarised ...), and the fields are read from the changed file's bytes as an upload is. Per change
it prints the exact string accuracy, the share auto-accepted and how many of those are right: a change the reader
does not survive shows as a drop against "as is", and one that it survives without knowing shows as wrong readings
among the accepted ones. The labels are as ml.evaluate reads them (labels.csv as published).
"""
import argparse
import io
import json
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter, ImageOps

from ml.data import orand_split, read_labels
from ml.strings import bilevel


def _png(image):
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _jpeg(image, quality):
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def _paper(grey):
    return int(np.median(np.asarray(grey)))


def _scaled(factor):
    return lambda grey, rng: _png(grey.resize((max(1, round(grey.width * factor)), max(1, round(grey.height * factor))),
                                              Image.Resampling.LANCZOS))


def _coloured(ink):
    """Dark becomes the pen's colour, light a cream paper."""
    def change(grey, rng):
        light = np.asarray(grey, np.float32)[..., None] / 255
        rgb = light * np.array([250, 248, 240]) + (1 - light) * np.array(ink)
        return _png(Image.fromarray(rgb.clip(0, 255).astype(np.uint8)))
    return change


def _rotated(degrees):
    return lambda grey, rng: _png(grey.rotate(degrees, Image.Resampling.BICUBIC, expand=True, fillcolor=_paper(grey)))


def _grey_map(function):
    return lambda grey, rng: _png(Image.fromarray(
        np.clip(function(np.asarray(grey, np.float32), rng), 0, 255).astype(np.uint8)))


def _transparent(grey, rng):
    """A drawing exported with a transparent ground: black ink whose opacity is the darkness."""
    rgba = np.zeros((grey.height, grey.width, 4), np.uint8)
    rgba[..., 3] = 255 - np.asarray(grey)
    return _png(Image.fromarray(rgba, "RGBA"))


CHANGES = {
    "as is": lambda grey, rng: None,  # the file itself
    "png": lambda grey, rng: _png(grey),
    "jpeg quality 25": lambda grey, rng: _jpeg(grey, 25),
    "scale 0.5": _scaled(0.5),
    "scale 0.75": _scaled(0.75),
    "scale 1.5": _scaled(1.5),
    "scale 2": _scaled(2),
    "scale 3": _scaled(3),
    "scale 4": _scaled(4),
    "scale 4, jpeg 85": lambda grey, rng: _jpeg(grey.resize((grey.width * 4, grey.height * 4),
                                                            Image.Resampling.LANCZOS), 85),
    "margin 60 px": lambda grey, rng: _png(ImageOps.expand(grey, 60, fill=_paper(grey))),
    "margin 200 px": lambda grey, rng: _png(ImageOps.expand(grey, 200, fill=_paper(grey))),
    "blue ink": _coloured((30, 50, 170)),
    "black ink, cream paper": _coloured((20, 20, 20)),
    "rotated +3": _rotated(3),
    "rotated -3": _rotated(-3),
    "rotated +6": _rotated(6),
    "transparent ground": _transparent,
    "low contrast (120-220)": _grey_map(lambda a, rng: 120 + a * 100 / 255),
    "noise (sd 12)": _grey_map(lambda a, rng: a + rng.normal(0, 12, a.shape)),
    "blur (radius 1)": lambda grey, rng: _png(grey.filter(ImageFilter.GaussianBlur(1.0))),
    "light from one side (to 0.55)": _grey_map(lambda a, rng: a * np.linspace(0.55, 1.0, a.shape[1])[None]),
    "inverted": lambda grey, rng: _png(ImageOps.invert(grey)),
    "16-bit grey": lambda grey, rng: _png(Image.fromarray(np.asarray(grey).astype(np.uint16) * 257)),
    "bilevel (threshold 128)": lambda grey, rng: _png(bilevel(grey)),  # BITONAL_LEVEL
}


def run(root, split=None, only=None, reader=None):
    """{change: figures} for the fields of root (all, or one ORAND-CAR-A split), read after each change."""
    from tqdm import tqdm

    from ml.strings import get_string_reader

    reader = reader or get_string_reader()
    labels = read_labels(root)
    names = orand_split(split) if split else sorted(labels)
    files = [(Path(root) / "images" / name).read_bytes() for name in names]
    greys = [Image.open(io.BytesIO(data)).convert("L") for data in files]
    results = {}
    for change in tqdm(only or list(CHANGES), desc="changes", unit="change"):
        rng = np.random.default_rng(0)
        changed = [CHANGES[change](grey, rng) or data for grey, data in zip(greys, files)]
        readings = reader.read(changed)
        right = np.array([getattr(r, "digits", None) == labels[n] for r, n in zip(readings, names)])
        accepted = np.array([getattr(r, "auto_accept", False) for r in readings])
        results[change] = {"fields": len(names), "exact_accuracy": float(right.mean()),
                           "auto_accepted": float(accepted.mean()), "accepted": int(accepted.sum()),
                           "accepted_right": int((accepted & right).sum()),
                           "errors": sum(not hasattr(r, "digits") for r in readings)}
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("root", type=Path, help="DIR with images/ and labels.csv (ORAND-CAR-A's, or ml.photos')")
    parser.add_argument("--split", choices=["train", "validation", "test"], help="one split of ORAND-CAR-A")
    parser.add_argument("--only", nargs="+", choices=list(CHANGES), metavar="CHANGE", help="these changes only")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = parser.parse_args(argv)
    results = run(args.root, args.split, args.only)
    if args.json:
        print(json.dumps(results))
        return
    print(f"{'change':32s} {'exact':>7s} {'accepted':>9s}  right of accepted  unreadable")
    for change, r in results.items():
        print(f"{change:32s} {r['exact_accuracy']:7.1%} {r['auto_accepted']:9.1%}  {r['accepted_right']:>7d} of "
              f"{r['accepted']:<7d}  {r['errors']}")


if __name__ == "__main__":
    main()
