"""Read one line of handwritten digits with the shipped single-digit model (no training).

    reader = get_string_reader()
    reading = reader.read_one(data)          # StringReading, or raises ImageError
    readings = reader.read([a, b, c])        # a StringReading or an ImageError per item, one model call

    python -m ml.strings --fit-calibration ../shared/data/orand-car-a   # validation split -> calibration JSON

The ink is found as for one digit (ml.preprocess: lighting flattened, specks and ruled lines removed), then
split into connected components. Small ones are separators (. , - =) and are reported, not read. Components
that overlap horizontally are fragments of one digit and are merged into a block. A block may hold several
touching digits, so candidate cuts are placed at minima of its column ink profile; every run of up to
MAX_PIECES consecutive pieces is read by the classifier (all of them in one batch), and a dynamic programme
picks the cuts that maximise the sum of log-probabilities of the digits read minus a penalty for widths no
digit has. The raw string confidence, the product of the chosen digits' probabilities, is mapped to a
calibrated one by an isotonic fit on the validation split (ml/models/strings_calibration.json).
"""
import argparse
import json
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from scipy import ndimage

from ml.data import orand_split, read_labels
from ml.inference import MODEL_DIR, get_recognizer
from ml.preprocess import ImageError, decode_image_and_size, ink_map, to_mnist

CALIBRATION = MODEL_DIR / "strings_calibration.json"
# Heights relative to the line (the median height of the digit-sized components); chosen on validation.
SEPARATOR_HEIGHT = 0.45  # lower than this: a dot, comma, dash or stroke of "=", not a digit
FLAT = 1.5  # a separator this many times wider than high is a dash
MIN_PIECE = 0.2  # no cut leaves a piece narrower than this
MAX_PIECES = 4  # one digit spans at most this many pieces between cuts
VALLEY = 0.8  # a cut candidate's column ink is at most this share of the peaks on both sides
WIDE = 0.8  # digits wider than this pay WIDTH_COST per unit of excess width, squared
WIDTH_COST = 4.0
DIGIT_COST = 1.0  # log-probability each digit read must earn: without it, thin slices read as 1s win
ACCEPT = 0.99  # the accepted share should be at least this right on validation


@dataclass
class Character:
    digit: str
    box: list[int]  # x, y, w, h in the file's pixels
    confidence: float


@dataclass
class StringReading:
    """The digits left to right; ``confidence`` is calibrated (about that share of such readings are right),
    ``raw_confidence`` the product of the digits' probabilities. ``separators`` lists the non-digit marks."""

    digits: str
    confidence: float
    auto_accept: bool
    characters: list[Character]
    raw_confidence: float = 0.0
    separators: list[dict] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    def to_dict(self):
        return asdict(self)


def pool_adjacent_violators(x, y):
    """Isotonic (non-decreasing) fit of 0/1 outcomes y on x: knots (xs, ys) for np.interp.

    Each pooled block contributes its lowest and highest x at its share of successes, shrunk towards the
    overall share as (k + share) / (n + 1) so that a block of a few readings, all right, does not claim
    certainty; a running minimum from the top keeps the shrunk values in order. Interpolation is flat
    inside a block and linear between blocks, hence monotone.
    """
    order = np.argsort(x, kind="stable")
    x, y = np.asarray(x, float)[order], np.asarray(y, float)[order]
    means, weights, starts = [], [], []
    for i, value in enumerate(y):
        means.append(value)
        weights.append(1.0)
        starts.append(i)
        while len(means) > 1 and means[-2] >= means[-1]:  # pool ties too: fewer knots, same fit
            w = weights[-2] + weights[-1]
            means[-2] = (means[-2] * weights[-2] + means[-1] * weights[-1]) / w
            weights[-2] = w
            del means[-1], weights[-1], starts[-1]
    ends = starts[1:] + [len(x)]
    xs = [float(v) for s, e in zip(starts, ends) for v in (x[s], x[e - 1])]
    shrunk = (np.array(means) * weights + y.mean()) / (np.array(weights) + 1)
    shrunk = np.minimum.accumulate(shrunk[::-1])[::-1]
    ys = [float(m) for m in shrunk for _ in range(2)]
    return xs, ys


def calibrate(raw, table):
    """Calibrated confidence for raw confidences, from a fitted table ({"raw": [...], "calibrated": [...]})."""
    return np.interp(raw, table["raw"], table["calibrated"])


def acceptance_threshold(confidence, correct, target=ACCEPT):
    """The lowest confidence at which the readings at or above it are at least ``target`` right, or None."""
    confidence, correct = np.asarray(confidence, float), np.asarray(correct, float)
    order = np.argsort(-confidence, kind="stable")
    right = np.cumsum(correct[order]) / np.arange(1, len(order) + 1)
    # Cut only between distinct confidences: equal ones are accepted together.
    last_of_value = np.r_[confidence[order][1:] != confidence[order][:-1], True]
    ok = np.flatnonzero((right >= target) & last_of_value)
    return float(confidence[order][ok[-1]]) if len(ok) else None


class StringReader:
    """Segmentation and hypothesis ranking around the process's single-digit Recognizer; thread-safe."""

    def __init__(self, recognizer=None, calibration=CALIBRATION):
        self.recognizer = recognizer or get_recognizer()
        # Without a fitted table (None, or no file) the raw confidence stands and nothing is auto-accepted.
        found = calibration is not None and Path(calibration).exists()
        self.calibration = json.loads(Path(calibration).read_text()) if found else None
        self.threshold = self.calibration and self.calibration["threshold"]

    def read(self, images: list[bytes]) -> list["StringReading | ImageError"]:
        """Read many fields with one model call; a bad file yields its ImageError in place."""
        fields = []
        for data in images:
            start = time.perf_counter()
            try:
                fields.append(_segment(data))
            except ImageError as error:
                fields.append(error)
                continue
            fields[-1]["seconds"] = time.perf_counter() - start
        crops = [crop for f in fields if isinstance(f, dict) for block in f["blocks"] for crop in block["crops"]]
        start = time.perf_counter()
        probabilities = iter(self.recognizer.read_arrays(np.stack(crops)) if crops else [])
        infer = (time.perf_counter() - start) / max(sum(isinstance(f, dict) for f in fields), 1)
        results = []
        for f in fields:
            if isinstance(f, ImageError):
                results.append(f)
                continue
            start = time.perf_counter()
            characters = []
            for block in f["blocks"]:
                p = np.stack([next(probabilities) for _ in block["crops"]])
                characters += _best_cuts(block, p, f["line"], f["place"])
            raw = float(np.prod([c.confidence for c in characters])) if characters else 0.0
            confidence = float(calibrate(raw, self.calibration)) if self.calibration and characters else raw
            confidence = round(confidence, 6)  # as printed, so that auto_accept agrees with what is shown
            seconds = {"segment": f["seconds"], "infer": infer, "rank": time.perf_counter() - start}
            timings = {name: round(s * 1000, 3) for name, s in seconds.items()}
            timings["total"] = round(sum(timings.values()), 3)
            results.append(StringReading(
                digits="".join(c.digit for c in characters), confidence=confidence,
                auto_accept=bool(characters) and self.threshold is not None and confidence >= self.threshold,
                characters=characters, raw_confidence=round(raw, 6), separators=f["separators"], timings=timings))
        return results

    def read_one(self, data: bytes) -> StringReading:
        result = self.read([data])[0]
        if isinstance(result, ImageError):
            raise result
        return result


def _segment(data):
    """Blocks of ink with their candidate cuts and the MNIST-form crop of every span; separators; geometry."""
    image, (width, _) = decode_image_and_size(data)
    found = ink_map(image)
    empty = {"blocks": [], "separators": [], "line": 1.0, "place": None}
    if found is None:
        return empty
    ink, (top, left) = found
    labels, count = ndimage.label(ink > 0, structure=np.ones((3, 3)))
    if count == 0:
        return empty
    boxes = ndimage.find_objects(labels)
    heights = np.array([rows.stop - rows.start for rows, _ in boxes])
    # The line height: the median of the components at least half as high as the highest (digits, not dots).
    line = float(np.median(heights[heights >= heights.max() / 2]))
    scale = width / image.width  # decode_image reduced large files

    def place(rows, cols):
        """x, y, w, h in the file's pixels of a box in the ink array."""
        x0, y0 = (cols.start + left) * scale, (rows.start + top) * scale
        x1, y1 = (cols.stop + left) * scale, (rows.stop + top) * scale
        return [int(x0), int(y0), max(1, round(x1 - x0)), max(1, round(y1 - y0))]

    separators, digits = [], []
    for label, (rows, cols) in enumerate(boxes, start=1):
        h, w = rows.stop - rows.start, cols.stop - cols.start
        if h < SEPARATOR_HEIGHT * line:
            separators.append({"char": "-" if w >= FLAT * h else ".", "box": place(rows, cols)})
        else:
            digits.append([cols.start, cols.stop, [label]])
    # Fragments of one digit (a broken stroke, the bar of a 5) overlap it horizontally: merge them.
    digits.sort()
    merged = []
    for start, stop, members in digits:
        if merged and min(stop, merged[-1][1]) - start >= 0.5 * min(stop - start, merged[-1][1] - merged[-1][0]):
            merged[-1] = [merged[-1][0], max(stop, merged[-1][1]), merged[-1][2] + members]
        else:
            merged.append([start, stop, members])
    blocks = [_block(ink, labels, start, stop, members, line) for start, stop, members in merged]
    return {"blocks": blocks, "separators": separators, "line": line, "place": place}


def _block(ink, labels, start, stop, members, line):
    """One block: its ink, the candidate cut columns and the crops of all spans of up to MAX_PIECES pieces."""
    block = np.where(np.isin(labels[:, start:stop], members), ink[:, start:stop], 0.0)
    profile = ndimage.uniform_filter1d(block.sum(axis=0), 3)
    narrowest = max(2, int(MIN_PIECE * line))
    inner = np.arange(narrowest, block.shape[1] - narrowest)
    minima = inner[(profile[inner] <= profile[inner - 1]) & (profile[inner] <= profile[inner + 1])]
    # A valley, not the flank of one stroke: well below the highest ink on both sides.
    left_peak, right_peak = np.maximum.accumulate(profile), np.maximum.accumulate(profile[::-1])[::-1]
    minima = minima[profile[minima] <= VALLEY * np.minimum(left_peak[minima], right_peak[minima])]
    cuts = []
    for column in minima[np.argsort(profile[minima], kind="stable")]:  # the thinnest joins first
        if all(abs(column - c) >= narrowest for c in cuts):
            cuts.append(int(column))
    cuts = [0, *sorted(cuts), block.shape[1]]
    spans = [(i, j) for i in range(len(cuts) - 1) for j in range(i + 1, min(i + MAX_PIECES, len(cuts) - 1) + 1)]
    crops = []
    for i, j in spans:
        crop = to_mnist(block[:, cuts[i]: cuts[j]])
        crops.append(np.zeros((28, 28), np.float32) if crop is None else crop)
    return {"ink": block, "offset": start, "cuts": cuts, "spans": spans, "crops": crops}


def _best_cuts(block, probabilities, line, place):
    """The digits of the best-scoring segmentation of one block (dynamic programme over its cuts)."""
    cuts, spans = block["cuts"], block["spans"]
    best = {0: (0.0, [])}
    for k, (i, j) in enumerate(spans):  # spans are ordered by their first cut, so best[i] is final here
        p = probabilities[k]
        excess = max(0.0, (cuts[j] - cuts[i]) / line - WIDE)
        score = best[i][0] + np.log(max(p.max(), 1e-9)) - WIDTH_COST * excess ** 2 - DIGIT_COST
        if j not in best or score > best[j][0]:
            best[j] = (score, best[i][1] + [(i, j, p)])
    characters = []
    for i, j, p in best[len(cuts) - 1][1]:
        piece = block["ink"][:, cuts[i]: cuts[j]]
        rows = np.flatnonzero(piece.any(axis=1))
        cols = np.flatnonzero(piece.any(axis=0))
        box = place(slice(rows[0], rows[-1] + 1), slice(block["offset"] + cuts[i] + cols[0],
                                                         block["offset"] + cuts[i] + cols[-1] + 1))
        characters.append(Character(digit=str(int(p.argmax())), box=box, confidence=round(float(p.max()), 6)))
    return characters


_reader = None
_reader_lock = threading.Lock()


def get_string_reader() -> StringReader:
    """The process-wide StringReader, sharing the process's Recognizer."""
    global _reader
    if _reader is None:
        with _reader_lock:
            if _reader is None:
                _reader = StringReader()
    return _reader


def fit_calibration(root, split="validation"):
    """Read a split of ORAND-CAR-A uncalibrated; return the isotonic table and the acceptance threshold."""
    labels, names = read_labels(root), orand_split(split)
    readings = StringReader(calibration=None).read([(Path(root) / "images" / name).read_bytes() for name in names])
    raw = [r.raw_confidence for r in readings]
    correct = [r.digits == labels[name] for r, name in zip(readings, names)]
    xs, ys = pool_adjacent_violators(raw, correct)
    table = {"raw": xs, "calibrated": ys}
    threshold = acceptance_threshold(calibrate(raw, table), correct)
    return {
        "about": f"Isotonic map of the string reader's raw confidence (product of the digits' probabilities) to "
                 f"the share of readings that are right, fitted on the {split} split of ORAND-CAR-A "
                 f"(ml/splits/orand-car-a.json) by python -m ml.strings --fit-calibration. threshold: the lowest "
                 f"calibrated confidence at which the readings accepted on {split} are at least {ACCEPT:.0%} "
                 f"right (null: no such confidence, nothing is auto-accepted).",
        "fitted_on": {"split": split, "images": len(names), "exact_accuracy": float(np.mean(correct))},
        "threshold": threshold, **table}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fit-calibration", type=Path, metavar="DIR", required=True,
                        help="ORAND-CAR-A directory (images/, labels.csv); fits on its validation split")
    parser.add_argument("--out", type=Path, default=CALIBRATION)
    args = parser.parse_args(argv)
    fitted = fit_calibration(args.fit_calibration)
    args.out.write_text(json.dumps(fitted, indent=1) + "\n")
    print(f"{args.out}: fitted on {fitted['fitted_on']}; threshold {fitted['threshold']}")


if __name__ == "__main__":
    main()
