"""Read one line of handwritten digits with the CRNN (ml/models/strings/), served by LiteRT.

    reader = get_string_reader()
    reading = reader.read_one(data)          # StringReading, or raises ImageError
    readings = reader.read([a, b, c])        # a StringReading or an ImageError per item, one model call

    python -m ml.strings --fit-calibration ../shared/data/orand-car-a   # boxes' lag, re-reading, calibration -> card

The writing is found as for one digit (ml.preprocess.ink_map: lighting flattened, specks and ruled lines removed; in
a photo of a sheet, found again in a cut around it, as in a scan), and the grey image around it, with a margin, goes
through the normalisation the CRNN was trained on (ml.synth_strings). The CRNN reads the line three times: as it is,
with thicker strokes and with thinner ones (pens and scanners differ most in stroke width). Each reading is greedy
CTC decoding: the digits, each with its probability and the columns it was read at, from which its box is measured
on the ink. The answer is the string most of the three readings give (the plain reading on a three-way split). The
raw string confidence is the mean over the three readings of the product of the digits' probabilities, counting 0
for a reading that gave another string: a reading that changes with the stroke width is unsure, however sure each
pass is. On the validation split this ranks right and wrong readings far better than the plain reading's product
(AUC 0.89 against 0.82; the share that can be accepted at 99 % right: 57 % against 13 %). The characters the CRNN is
unsure of are read again by the digit CNN where their boxes are (StringReader._reread): the two models err on
different digits (validation 89.9 % exact against 88.4 %; tuning photos 90.0 % against 86.0 %). On the drawing
page's canvas, a stroke as tall as a digit that no character explains is read by the digit CNN and put in its place
(StringReader._read_left_out). An isotonic fit on the validation split, stored in the model card, maps the raw
confidence to a calibrated one, and the card's threshold decides auto-acceptance. A black-and-white file (at most
two colours, as bitonal cheque scanners give) is read by a second CRNN, trained on such lines, beside the first
(ml/models/strings-bitonal/, with its own fits on the validation split made black and white): ORAND's test split so
made reads 83.5 % exact with it, 80.3 % without.
"""
import argparse
import io
import itertools
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

from ml.ctc import BLANK, greedy_decode
from ml.data import orand_labels, orand_split, orand_uploads, read_labels
from ml.inference import MODEL_DIR, LiteModel, ProcessWide, Recognizer, log_mix
from ml.preprocess import (MIN_SIDE, ImageError, _luminance, decode_image, decode_image_and_size, even_light,
                           ink_map, prepare)
from ml.synth_strings import HEIGHT, WIDTH, crop_ink, fit_line, fitted_width, line_ink

STRINGS_DIR = MODEL_DIR / "strings"
BITONAL = "strings-bitonal"  # beside the CRNN's folder: the CRNN that reads black-and-white files, where present
BITONAL_LEVEL = 128  # the grey at which fit_calibration makes a split's files black and white for that CRNN
# ... at these resolutions (times ORAND's), pooled: fitted at 1x alone it accepted 94 of 98 right at 2x, 102 of 105
# at 3x (validation, corrected labels), where bitonal scanners work at 200-300 dpi
BITONAL_SCALES = (1, 2, 3)
MARGIN = 0.5  # paper kept around the writing that ink_map found, in line heights: what it dropped comes back
# A photo of a sheet is cut to its writing and this much paper around it, in the ink's heights, and the cut read
# as a scan: phone photos of ORAND's validation fields (seed 7) 80.7 % exact at 0.3, 80.7 % at 0.15, 79.2 % at 0,
# 71.0 % at 0.5 (MARGIN), where the cut reaches the edges of a printed field and they read as 1s.
CUT_MARGIN = 0.3
PHOTO_PAD = 4  # white kept around a photo's ink map
# A photo's ink strength is raised to this power: 800 tuning photo strings (ml.photos --strings --seed 7) read
# 94.5 % exact at 0.2-0.3 against 92.4 % at 1 (0.5: 92.8 %; 0.1: 94.4 %), auto-accepted ones 99.2 % right (98.1 %).
PHOTO_GAMMA = 0.25
STRIDE = 4  # input columns per output column of the CRNN
INK = 0.3  # a normalised pixel at least this dark counts when measuring boxes
KEEP = 0.6  # in a character's part, strokes smaller than this share of its largest are left out of its box
READ_MARGIN = 48  # blank columns read past a line's ink: more than the CRNN looks either side (45)
CONSULT_BELOW = (0.5, 0.8, 0.9, 0.95, 0.99, 0.999, 1.0)  # model confidences fit_ensemble and fit_reread try
ACCEPT = 0.99  # the auto-accepted share should be at least this right on validation
# On a canvas, a stroke at least TALL of the characters' median height whose middle lies outside every character's
# box (widened by WIDEN of its width each side) is a digit the CRNN left out (StringReader._read_left_out).
TALL, WIDEN = 0.6, 0.1


def read_width(x):
    """The columns a normalised line (HEIGHT, WIDTH) is read at: its ink and READ_MARGIN blank columns beyond, in
    steps of 32 (fewer shapes for the model to plan for). Past the ink the line is blank, and the CRNN's output
    at a column depends on the 45 columns either side of it, so the digits read the same as at full width (on
    ORAND validation: every line alike, probabilities within 3e-6) for less work (160 columns cost 61 % of 256)."""
    inked = np.flatnonzero(x.max(axis=0) > 0)
    used = inked[-1] + 1 if len(inked) else 0
    return int(min(WIDTH, -(-(used + READ_MARGIN) // 32) * 32))


# The passes over each line: geometry unchanged, so every pass's columns are the line's columns.
PASSES = (
    lambda x: x,
    lambda x: ndimage.grey_dilation(x, size=(1, 2, 2)),  # thicker strokes
    lambda x: ndimage.grey_erosion(x, size=(1, 2, 1)),  # thinner strokes
)


@dataclass
class Character:
    digit: str
    box: list[int]  # x, y, w, h in the file's pixels
    confidence: float


@dataclass
class _Vote:
    """A character as voted: ``crnn`` is the CRNN's probability of each of the ten digits where it read it (the
    digit CNN's, for a stroke only the CNN read)."""

    digit: str
    box: list[int]
    confidence: float
    crnn: np.ndarray


@dataclass
class StringReading:
    """The digits left to right; ``confidence`` is calibrated (about that share of such readings are right),
    ``raw_confidence`` the mean over the passes of the product of the digits' probabilities, 0 for a pass that
    read another string."""

    digits: str
    confidence: float
    auto_accept: bool
    characters: list[Character]
    raw_confidence: float = 0.0
    model_version: str = ""
    timings: dict[str, float] = field(default_factory=dict)

    def to_dict(self):
        return asdict(self)


def default_threshold(model_dir=STRINGS_DIR):
    """The model card's default acceptance threshold, rounded as confidences are; read without the model."""
    card = json.loads((Path(model_dir) / "model_card.json").read_text())
    threshold = (card.get("calibration") or {}).get("threshold")
    return None if threshold is None else round(threshold, 6)


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


@dataclass
class _Line:
    """One field made ready for the model: its input and how to map input pixels back to the file's."""

    x: np.ndarray  # (HEIGHT, WIDTH)
    origin: tuple[float, float]  # the band's (top, left) in the decoded image
    scale: tuple[float, float]  # decoded-image pixels per input pixel (vertical, horizontal)
    to_file: float  # file pixels per decoded-image pixel
    seconds: float
    image: "Image.Image | None" = None  # the decoded image, where the digit CNN re-reads unsure characters
    bitonal: bool = False  # black and white only (at most two colours), as bitonal cheque scanners give them
    canvas: bool = False  # larger than a scan, on even paper: the drawing page's canvas
    photo: bool = False  # a photo of a sheet, read from a cut around its writing


def prepare_line(data):
    """Bytes -> a _Line, or None when no ink is found; raises ImageError for a file that is not a usable image."""
    start = time.perf_counter()
    image, (width, _) = decode_image_and_size(data)
    found, source, cut = ink_map(image), image, (0, 0)
    photo = found is not None and found.sheet
    if photo:
        # A photo of a sheet: the writing and the paper around it are read as a scan is read, from a cut. Where
        # the writing is on printed paper (a cheque), the flattened ink holds the print too, and the CRNN, trained
        # on scans of such fields, reads them better as they are: phone photos of ORAND's validation fields (seed
        # 7) 80.7 % exact against 65.7 %; on plain paper, photo strings (seed 7) 93.0 % against 90.5 %. The page's
        # canvas is no sheet: read from a cut, its numbers were no more often right, and the accepted ones less
        # often (224 of 227 against 224 of 226). Photos have their own calibration (photo_calibration).
        source, cut = _cut_around(image, found)
        found = ink_map(source, scan=True)
    if found is None:
        return None
    ink, (top, left) = found.ink, (cut[0] + found.origin[0], cut[1] + found.origin[1])
    if found.photo:
        # Larger than a scan, on even paper (the drawing page's canvas): its ink read as dark on white, its weak
        # ink strengthened (PHOTO_GAMMA): the reduced image covers a thin pen's strokes only in part, and at
        # that strength the model takes them for paper and leaves the digit out. (Fitted when photos of sheets
        # came this way, seed 7: 77 % exact against 73 % reading their grey.)
        grey = np.pad(255 * (1 - ink ** PHOTO_GAMMA), PHOTO_PAD, constant_values=255)
        origin = (top - PHOTO_PAD, left - PHOTO_PAD)
    else:
        # A scan or a field cut from one: the model was trained on such grey (ORAND validation: 84.5 % exact,
        # against 80.7 % reading ink_map's ink).
        grey, origin = even_light(np.asarray(_luminance(source), np.float32), found), cut
    top, left = top - origin[0], left - origin[1]  # the ink's box in grey
    box = grey[top: top + ink.shape[0], left: left + ink.shape[1]]
    paper = np.median(box)
    # Light writing on a dark ground is inverted: the model reads dark ink on light paper. Dark paper alone
    # is not enough (a dark scan of darker ink, paper at grey 126, was inverted and read as nothing), nor is
    # ink_map's ink lighter than the paper alone (on light paper it may have taken the pale streaks of a
    # security print for the writing).
    strong = ink > 0.5
    if paper < 128 and strong.any() and box[strong].mean() > paper:  # faint ink alone: left as it is
        grey = 255 - grey
    margin = int(MARGIN * ink.shape[0])
    top, left = max(top - margin, 0), max(left - margin, 0)
    band = line_ink(grey[top: top + ink.shape[0] + 2 * margin, left: left + ink.shape[1] + 2 * margin])
    if band is None:
        return None
    band, (band_top, band_left) = band
    h, w = band.shape
    return _Line(x=fit_line(band), origin=(origin[0] + top + band_top, origin[1] + left + band_left),
                 scale=(h / HEIGHT, w / fitted_width(h, w)), to_file=width / image.width,
                 seconds=time.perf_counter() - start, image=image,
                 bitonal=_bitonal(image), canvas=found.photo, photo=photo)


def _cut_around(image, found):
    """The decoded image cut to found's ink and CUT_MARGIN of its height around it, at least MIN_SIDE pixels each
    way (as an upload must be: a speck's cut would be too small to read), and the cut's (top, left)."""
    (top, left), (height, width) = found.origin, found.ink.shape
    margin = round(CUT_MARGIN * height)

    def span(start, stop, limit):
        start, stop = max(start, 0), min(stop, limit)
        start = min(start, max(limit - MIN_SIDE, 0))
        return start, min(max(stop, start + MIN_SIDE), limit)

    rows = span(top - margin, top + height + margin, image.height)
    cols = span(left - margin, left + width + margin, image.width)
    return image.crop((cols[0], rows[0], cols[1], rows[1])), (rows[0], cols[0])


def _bitonal(image):
    """Black and white only (at most two colours), as bitonal cheque scanners give fields. A file reduced to
    WORK_SIDE has grey edges by then, and is read as the grey scan it has become."""
    try:
        return image.mode == "1" or image.getcolors(2) is not None
    except ValueError:  # Pillow counts no colours of 16-bit grey: such files are grey scans
        return False


def mnist_line(digit):
    """A digit in MNIST form (28, 28) drawn as a line for the CRNN, as the synthetic lines draw MNIST digits."""
    digit = np.asarray(digit, np.float32).reshape(28, 28)
    return fit_line(crop_ink(digit)) if digit.max() > 0.1 else np.zeros((HEIGHT, WIDTH), np.float32)


def character_boxes(x, characters, line, lag=0.0):
    """Each decoded character's box in the file's pixels, measured on the ink of the model's input.

    CTC says which columns a digit was read at, not where the digit is: one model reads at a digit's centre,
    another (trained alike, another seed) near its right edge. ``lag`` is how far right of a digit's centre the
    model reads it, in the line's columns (fitted per model by fit_alignment); the characters' columns are moved
    back by it. The line is cut between two neighbours at the emptiest column between them (nearest the middle
    among equals): the gap between the two digits, or the thinnest join of touching ones. The first and last
    characters reach at most a line height beyond. Inside its part a character's box holds the strokes (8-connected
    ink) at least KEEP as large as its largest, so that dots, commas, dashes and specks of the security print
    beside a digit stay out of it (ORAND validation, against boxes.json: mean IoU 0.79, 92 % of the boxes at
    IoU >= 0.5; 0.48 and 50 % with no lag and the tallest run of inked columns instead of strokes).
    """
    ink = x >= INK
    profile = ink.sum(axis=0)
    centres = [float(np.clip(STRIDE * (first + last + 1) / 2 - lag, 0, WIDTH - 1)) for _, _, first, last in characters]
    cuts = []
    for a, b in itertools.pairwise(centres):
        lo, hi = int(a), max(int(np.ceil(b)), int(a) + 1)
        emptiest = lo + np.flatnonzero(profile[lo:hi] == profile[lo:hi].min())
        cuts.append(int(emptiest[np.argmin(np.abs(emptiest - (a + b) / 2))]))
    starts = [max(0, round(centres[0] - HEIGHT)), *cuts] if centres else []
    stops = [*cuts, min(WIDTH, round(centres[-1] + HEIGHT))] if centres else []
    labels, _ = ndimage.label(ink, structure=np.ones((3, 3)))
    boxes = []
    for start, stop in zip(starts, stops):
        stop = max(stop, start + 1)
        part = labels[:, start:stop]
        areas = np.bincount(part.ravel())
        areas[0] = 0  # paper
        if areas.max() == 0:  # a character read where no pixel passes INK: its share of the line
            rows, cols = np.array([0, HEIGHT - 1]), np.array([0, stop - start - 1])
        else:
            kept = (areas >= KEEP * areas.max())[part]  # a lookup by label: np.isin sorts, far slower
            rows, cols = np.flatnonzero(kept.any(axis=1)), np.flatnonzero(kept.any(axis=0))
        boxes.append(_file_box(_in_file(line, (rows[0], rows[-1] + 1), (start + cols[0], start + cols[-1] + 1))))
    return boxes


def _in_file(line, rows, cols):
    """Rows and columns of a line's input, each as (first, stop), in the file's pixels: (x0, y0, x1, y1)."""
    (top, left), (sy, sx), k = line.origin, line.scale, line.to_file
    return (left + cols[0] * sx) * k, (top + rows[0] * sy) * k, (left + cols[1] * sx) * k, (top + rows[1] * sy) * k


def _file_box(bounds):
    """(x0, y0, x1, y1) in the file's pixels as a character's box: [x, y, w, h], whole pixels, at least 1 wide."""
    x0, y0, x1, y1 = bounds
    return [int(x0), int(y0), max(1, round(x1 - int(x0))), max(1, round(y1 - int(y0)))]


def _share_time(votes, start):
    """Each vote's share of the seconds since start (one model call served them all)."""
    for vote in votes:
        vote["seconds"] += (time.perf_counter() - start) / len(votes)


def _digit_at(line, box):
    """The digit CNN's input (prepare) for a box of the file (x, y, w, h) with 2 pixels more each side, cut from the
    line's decoded image; None where prepare finds no digit there."""
    x, y, w, h = (round(v / line.to_file) for v in box)
    return prepare(line.image.crop((max(x - 2, 0), max(y - 2, 0), min(x + w + 2, line.image.width),
                                    min(y + h + 2, line.image.height))))


def left_out_strokes(line, characters):
    """Boxes (x, y, w, h in the file's pixels) of the ink the reading does not explain, among the strokes
    (8-connected ink of the model's input) at least TALL of the characters' median height: those whose middle
    column lies outside every character's box, widened by WIDEN of its width each side, and in a character read as
    1 that holds two of them, the one farther from its box's middle (a drawn "11" read as one 1). Empty where
    nothing was read."""
    if not characters:
        return []
    labels, _ = ndimage.label(line.x >= INK, structure=np.ones((3, 3)))
    height = np.median([character.box[3] for character in characters])
    tall = []
    for rows, cols in ndimage.find_objects(labels):
        x0, y0, x1, y1 = _in_file(line, (rows.start, rows.stop), (cols.start, cols.stop))
        if y1 - y0 >= TALL * height:
            tall.append((x0, y0, x1, y1, (x0 + x1) / 2))
    boxes = [stroke for stroke in tall if not any(x - WIDEN * w <= stroke[4] <= x + (1 + WIDEN) * w
                                                  for x, _, w, _ in (character.box for character in characters))]
    for character in characters:
        x, _, w, _ = character.box
        inside = [stroke for stroke in tall if x <= stroke[4] <= x + w]
        if character.digit == "1" and len(inside) == 2:
            boxes.append(max(inside, key=lambda stroke: abs(stroke[4] - (x + w / 2))))
    return [_file_box(stroke[:4]) for stroke in boxes]


class StringReader(LiteModel):
    """The shipped CRNN with its calibration; thread-safe. Black-and-white files go to the CRNN trained on such
    lines (BITONAL beside model_dir, with its own calibration), where there is one."""

    def __init__(self, model_dir=STRINGS_DIR, calibrated=True, num_threads=None, reread=True, bitonal=True):
        super().__init__(model_dir, num_threads)
        bitonal_dir = Path(model_dir).parent / BITONAL
        self.bitonal = (StringReader(bitonal_dir, calibrated, num_threads, reread, bitonal=False)
                        if bitonal and not _reads_bitonal(model_dir) and (bitonal_dir / "model_card.json").is_file()
                        else None)
        # Without a fitted table the raw confidence stands and nothing is auto-accepted.
        self.calibration = self.card.get("calibration") if calibrated else None
        # Photos of sheets read worse than scans at the same raw confidence: their own table, where fitted.
        self.photo_calibration = self.card.get("photo_calibration") if calibrated else None
        self.threshold = default_threshold(model_dir) if calibrated else None
        self.lag = (self.card.get("alignment") or {}).get("lag", 0.0)
        # The digit CNN re-reads the characters the CRNN is unsure of, where the card says how (fit_reread).
        self.reread = self.card.get("reread") if reread else None
        self.digit_model = None
        if self.reread:
            self.digit_model = Recognizer(Path(model_dir).parent, num_threads, ensemble=False)
            if self.digit_model.version != self.reread["digit_model_version"]:
                raise ValueError(f"{model_dir}: the re-reading was fitted with digit model "
                                 f"{self.reread['digit_model_version']}, not {self.digit_model.version}")
            self.version = f"{self.version} {self.digit_model.version}"  # readings depend on both

    def read_arrays(self, x):
        """Per-column probabilities (N, W / STRIDE, 11) for lines already normalised, (N, HEIGHT, W)."""
        x = np.asarray(x, np.float32)
        return self.run(x.reshape(-1, HEIGHT, x.shape[-1], 1))

    def digit_probabilities(self, lines, passes=1):
        """The CRNN's opinion of single digits, each given as a line (HEIGHT, WIDTH): from the file it came in
        (prepare_line(...).x) or from its MNIST form (mnist_line). Per class, its highest probability over the line's
        columns (mean over the first ``passes`` passes), normalised."""
        lines = np.stack(lines).astype(np.float32)
        width = max(read_width(line) for line in lines)
        lines = lines[:, :, :width]
        p = self.read_arrays(np.concatenate([read(lines) for read in PASSES[:passes]]))
        q = p.reshape(passes, len(lines), width // STRIDE, -1)[..., :BLANK].max(axis=2).mean(axis=0)
        return q / q.sum(axis=1, keepdims=True)

    def read(self, images: list[bytes]) -> list["StringReading | ImageError"]:
        """Read many fields with one model call per line width (and model); a bad file yields its ImageError in
        place."""
        lines = []
        for data in images:
            try:
                lines.append(prepare_line(data))
            except ImageError as error:
                lines.append(error)
        ready = [line for line in lines if isinstance(line, _Line)]
        bitonal = [line for line in ready if self.bitonal and line.bitonal]
        readings = dict(zip(map(id, bitonal), self.bitonal._read_lines(bitonal) if bitonal else []))
        grey = [line for line in ready if id(line) not in readings]
        readings.update(zip(map(id, grey), self._read_lines(grey) if grey else []))
        return [readings[id(line)] if isinstance(line, _Line)
                else line if isinstance(line, ImageError) else self._blank() for line in lines]

    def _read_lines(self, ready):
        """StringReadings of prepared lines, by this reader's CRNN and calibration."""
        start = time.perf_counter()
        # One model call per width: every pass of the lines read at that width.
        widths = [read_width(line.x) for line in ready]
        passes = [None] * len(ready)
        for width in set(widths):
            group = [i for i, w in enumerate(widths) if w == width]
            x = np.stack([ready[i].x[:, :width] for i in group])
            p = self.read_arrays(np.concatenate([read(x) for read in PASSES]))
            p = p.reshape(len(PASSES), len(group), width // STRIDE, -1)
            for k, i in enumerate(group):
                passes[i] = p[:, k]
        infer = (time.perf_counter() - start) / max(len(ready), 1)
        votes = [self._vote(line, p) for line, p in zip(ready, passes)]
        self._reread(ready, votes)
        self._read_left_out(ready, votes)
        return [self._reading(line, vote, infer) for line, vote in zip(ready, votes)]

    def _blank(self):
        return StringReading(digits="", confidence=0.0, auto_accept=False, characters=[], model_version=self.version)

    def _vote(self, line, passes):
        """The string most passes read (the plain pass's on a three-way split), its characters with their boxes, and
        the raw confidence."""
        start = time.perf_counter()
        readings = [greedy_decode(p) for p in passes]
        strings = [string for string, _ in readings]
        digits = max(strings, key=lambda s: (strings.count(s), s == strings[0]))  # most read; a tie: the plain
        chosen = strings.index(digits)
        decoded = readings[chosen][1]
        raw = float(np.mean([np.prod([q for _, q, _, _ in d]) if s == digits else 0.0 for s, d in readings])
                    if digits else 0.0)
        characters = []
        for (digit, q, first, last), box in zip(decoded, character_boxes(line.x, decoded, line, self.lag)):
            crnn = passes[chosen][first: last + 1, :BLANK].max(axis=0)
            characters.append(_Vote(digit=digit, box=box, confidence=q, crnn=crnn / crnn.sum()))
        return {"characters": characters, "raw": raw, "seconds": time.perf_counter() - start}

    def _reread(self, lines, votes):
        """Characters the CRNN is unsure of (its digit under the card's consult_below of its ten digits'
        probability) are cut from the image at their boxes and read by the digit CNN too; where asked, a character
        is the digit of the two models' weighted log probabilities, its confidence that digit's mixed probability,
        and the raw string confidence changes in the same ratio. One CNN call for every line's characters."""
        if not self.digit_model:
            return
        start = time.perf_counter()
        weight = self.reread["digit_weight"]
        unsure = ((line, character.box, (vote, character)) for line, vote in zip(lines, votes)
                  for character in vote["characters"] if character.crnn.max() < self.reread["consult_below"])
        for (vote, character), p in self._cnn_at(unsure):
            mixed = log_mix(character.crnn, p, weight)
            best = int(mixed.argmax())
            vote["raw"] *= float(mixed[best]) / max(character.confidence, 1e-7)
            character.digit, character.confidence = str(best), float(mixed[best])
        _share_time(votes, start)

    def _read_left_out(self, lines, votes):
        """On a canvas, the strokes no character explains (left_out_strokes) are read by the digit CNN and join
        the characters in place, the raw confidence multiplied by the CNN's probability. The CRNN was taught to
        leave out slashes, and a drawn 1 leaning 20-30 degrees looks like one: drawn numbers with two 1s leaning
        25 degrees (ml.photos --lean 25, seed 7) read 79 % exactly without this, 92 % with it. Only canvases:
        scans and photos of cheques hold real separators, which the CNN would read as 1s."""
        if not self.digit_model:
            return
        start = time.perf_counter()
        left_out = ((line, box, (vote, box)) for line, vote in zip(lines, votes) if line.canvas
                    for box in left_out_strokes(line, vote["characters"]))
        for (vote, box), p in self._cnn_at(left_out):
            best = int(p.argmax())
            vote["characters"].append(_Vote(digit=str(best), box=box, confidence=float(p[best]), crnn=p))
            vote["characters"].sort(key=lambda character: character.box[0])
            vote["raw"] *= float(p[best])
        _share_time(votes, start)

    def _cnn_at(self, wanted):
        """(key, the digit CNN's probabilities) for each (line, box, key) in wanted whose box holds a digit, in one
        call of the CNN."""
        asked, crops = [], []
        for line, box, key in wanted:
            digit = _digit_at(line, box)
            if digit is not None:
                asked.append(key)
                crops.append(digit)
        return zip(asked, self.digit_model.read_arrays(np.stack(crops))) if crops else []

    def _reading(self, line, vote, infer):
        digits = "".join(c.digit for c in vote["characters"])
        raw = min(vote["raw"], 1.0)
        table = self.photo_calibration if line.photo and self.photo_calibration else self.calibration
        confidence = float(calibrate(raw, table)) if table and digits else raw
        confidence = round(confidence, 6)  # as printed, so that auto_accept agrees with what is shown
        characters = [Character(digit=c.digit, box=c.box, confidence=round(c.confidence, 6))
                      for c in vote["characters"]]
        timings = {name: round(seconds * 1000, 3)
                   for name, seconds in {"prepare": line.seconds, "infer": infer, "decode": vote["seconds"]}.items()}
        timings["total"] = round(sum(timings.values()), 3)
        return StringReading(
            digits=digits, confidence=confidence,
            auto_accept=bool(digits) and self.threshold is not None and confidence >= self.threshold,
            characters=characters, raw_confidence=round(raw, 6), model_version=self.version, timings=timings)

    def read_one(self, data: bytes) -> StringReading:
        result = self.read([data])[0]
        if isinstance(result, ImageError):
            raise result
        return result


get_string_reader = ProcessWide(StringReader)  # the process-wide StringReader


def _reads_bitonal(model_dir):
    """Whether the CRNN in model_dir is the one of black-and-white files (fitted on them, with none beside it)."""
    return Path(model_dir).name == BITONAL


def bilevel(grey):
    """A grey PIL image made black and white at BITONAL_LEVEL, as a bitonal scanner would give it."""
    return grey.point(lambda v: 255 if v > BITONAL_LEVEL else 0).convert("1")


def split_files(root, names, model_dir, scales=(1,)):
    """(names, files): the files of ORAND-CAR-A named, as the CRNN in model_dir is fitted on them: as they are, or
    for the CRNN of black-and-white files (BITONAL) made so (bilevel), all of them at each of ``scales`` in turn,
    each with its name."""
    files = [(Path(root) / "images" / name).read_bytes() for name in names]
    if not _reads_bitonal(model_dir):
        return names, files
    greys = [Image.open(io.BytesIO(data)).convert("L") for data in files]  # decoded once for every scale
    encoded = []
    for scale in scales:
        for grey in greys:
            buffer = io.BytesIO()
            bilevel(grey.resize((grey.width * scale, grey.height * scale), Image.Resampling.LANCZOS)
                    if scale != 1 else grey).save(buffer, "PNG")
            encoded.append(buffer.getvalue())
    return names * len(scales), encoded


def fit_calibration(root, model_dir=STRINGS_DIR, split="validation"):
    """Read a split of ORAND-CAR-A uncalibrated; return the isotonic table and the acceptance threshold."""
    labels, names = orand_labels(root), orand_split(split)
    reader = StringReader(model_dir, calibrated=False)
    names, files = split_files(root, names, model_dir, BITONAL_SCALES)
    readings = reader.read(files)
    raw = [r.raw_confidence for r in readings]
    correct = [r.digits == labels[name] for r, name in zip(readings, names)]
    xs, ys = pool_adjacent_violators(raw, correct)
    table = {"raw": xs, "calibrated": ys}
    threshold = acceptance_threshold(calibrate(raw, table), correct)
    return {
        "about": f"Isotonic map of the raw confidence (the mean over the {len(PASSES)} passes of the product of the "
                 f"digits' probabilities, 0 for a pass that read another string) to the share of "
                 f"readings that are right, fitted on the {split} split of ORAND-CAR-A (ml/splits/orand-car-a.json; "
                 f"labels corrected by ml/splits/orand-car-a-corrections.json) "
                 f"by python -m ml.strings --fit-calibration. threshold: the default acceptance threshold, the "
                 f"lowest calibrated confidence at which the readings accepted on {split} are at least "
                 f"{ACCEPT:.0%} right (null: no such confidence, nothing is auto-accepted).",
        "fitted_on": {"split": split, "images": len(names), "exact_accuracy": float(np.mean(correct)),
                      "files": "as they are" if not _reads_bitonal(model_dir) else
                      f"black and white at {BITONAL_LEVEL} (bilevel), each at {BITONAL_SCALES} times its size"},
        "threshold": threshold, **table}


def fit_photo_calibration(sets, model_dir=STRINGS_DIR):
    """The isotonic table for photos of sheets (_Line.photo), fitted on labelled sets of such photos (ml.photos
    output: images/ and labels.csv), those of their images that are read as photos of sheets."""
    reader = StringReader(model_dir, calibrated=False)
    raw, correct, counts = [], [], {}
    for root in map(Path, sets):
        labels = read_labels(root)
        lines = [(prepare_line((root / "images" / name).read_bytes()), label) for name, label in labels.items()]
        photos = [(line, label) for line, label in lines if line is not None and line.photo and not line.bitonal]
        readings = reader._read_lines([line for line, _ in photos])  # each file decoded and prepared once
        raw += [reading.raw_confidence for reading in readings]
        correct += [reading.digits == label for reading, (_, label) in zip(readings, photos)]
        counts[root.name] = len(photos)
    xs, ys = pool_adjacent_violators(raw, correct)
    return {"about": "Isotonic map of the raw confidence to the share of readings that are right, for photos of "
                     "sheets (read from a cut around their writing), fitted on generated photos (python -m ml.photos; "
                     "see the README) by python -m ml.strings --fit-photo-calibration. A scan's table accepts such "
                     "photos with confidence when they are wrong more often than it says.",
            "fitted_on": {"sets": counts, "images": len(raw), "exact_accuracy": float(np.mean(correct))},
            "raw": xs, "calibrated": ys}


def fit_alignment(root, model_dir=STRINGS_DIR, split="validation"):
    """How far right of a digit's centre the model reads it (ml.strings.character_boxes): the median, in the
    line's columns, over the digits of the lines of a split of ORAND-CAR-A whose plain reading is the string of
    their boxes in boxes.json."""
    boxes = json.loads((Path(root) / "boxes.json").read_text())
    names = [name for name in orand_split(split) if name in boxes]
    reader = StringReader(model_dir, calibrated=False)
    lags = []
    for name, data in zip(*split_files(root, names, model_dir)):
        line = prepare_line(data)
        if line is None:
            continue
        width = read_width(line.x)
        digits, decoded = greedy_decode(reader.read_arrays(line.x[None, :, :width])[0])
        truth = sorted(boxes[name], key=lambda item: item["bbox"][0])
        if digits != "".join(str(item["digit"]) for item in truth):
            continue
        for (_, _, first, last), item in zip(decoded, truth):
            x, _, w, _ = item["bbox"]
            centre = ((x + w / 2) / line.to_file - line.origin[1]) / line.scale[1]
            lags.append(STRIDE * (first + last + 1) / 2 - centre)
    return {"about": f"lag: how far right of a digit's centre, in columns of the {WIDTH}-column line, the model "
                     f"reads it; the median over the digits of the {split} split's lines of ORAND-CAR-A read "
                     f"exactly, against their boxes in boxes.json (python -m ml.strings --fit-calibration)",
            "fitted_on": {"split": split, "digits": len(lags)},
            "lag": round(float(np.median(lags)), 2) if lags else 0.0,
            "spread": round(float(np.std(lags)), 2) if lags else None}


def fit_reread(root, model_dir=STRINGS_DIR, split="validation"):
    """How the digit CNN re-reads the characters the CRNN is unsure of (StringReader._reread), chosen on a split of
    ORAND-CAR-A by exact accuracy: the weight of the CNN's log probabilities, the one in 0, 0.1 ... 1 that reads
    most lines right when every character is asked (the smallest among equals); then the CRNN probability below
    which a character is asked, the lowest in CONSULT_BELOW that reads as many right (each crop costs about 1 ms)."""
    labels, names = orand_labels(root), orand_split(split)
    _, images = split_files(root, names, model_dir)
    reader = StringReader(model_dir, calibrated=False, reread=False)
    reader.digit_model = Recognizer(Path(model_dir).parent, ensemble=False)

    def accuracy(weight, below):
        reader.reread = {"digit_weight": weight, "consult_below": below}
        return float(np.mean([r.digits == labels[name] for r, name in zip(reader.read(images), names)]))

    weights = np.round(np.linspace(0, 1, 11), 1)
    by_weight = {float(w): accuracy(float(w), float("inf")) for w in weights}
    weight = max(by_weight, key=lambda w: (by_weight[w], -w))
    by_below = {below: accuracy(weight, below) for below in CONSULT_BELOW}
    below = min(b for b, a in by_below.items() if a >= by_weight[weight])
    return {"about": f"digit_weight: the weight of the digit CNN's log probabilities beside the CRNN's for a "
                     f"character cut from the image at its box; consult_below: the CRNN's probability of its digit "
                     f"(of the ten) below which the CNN is asked; chosen on the {split} split of ORAND-CAR-A by exact "
                     f"accuracy (python -m ml.strings --fit-calibration)",
            "digit_model_version": reader.digit_model.version, "digit_weight": weight, "consult_below": below,
            "fitted_on": {"split": split, "images": len(names), "accuracy_by_weight": by_weight,
                          "accuracy_by_consult_below": {str(b): a for b, a in by_below.items()}}}


def fit_ensemble(root, digit_dir=MODEL_DIR, split="validation", passes=len(PASSES)):
    """How the single-digit engine (ml.inference.Recognizer) asks the CRNN (StringReader.digit_probabilities, on each
    crop's file read as a line) beside the digit CNN, chosen on a split's digit crops of ORAND-CAR-A read through the
    upload path: the weight of the
    CRNN's log probabilities, the one in 0, 0.1 ... 1 that reads most crops right (the smallest among equals); then
    the CNN confidence below which it is asked, the lowest in CONSULT_BELOW that reads as many right as asking it
    always (the CRNN costs about three times the CNN, and a sure CNN is seldom wrong)."""
    cnn = Recognizer(digit_dir, ensemble=False)
    crnn = StringReader(Path(digit_dir) / "strings", calibrated=False, reread=False, bitonal=False)
    x, y, lines = [], [], []
    for data, digit in orand_uploads(root, split=split):  # as ml.evaluate reads the crops
        digit_x = prepare(decode_image(data))
        x.append(np.zeros((28, 28), np.float32) if digit_x is None else digit_x)
        y.append(digit)
        line = prepare_line(data)
        lines.append(mnist_line(x[-1]) if line is None else line.x)
    x, y = np.stack(x), np.array(y)
    p = cnn.read_arrays(x)
    weights = np.round(np.linspace(0, 1, 11), 1)

    def by_weight(q):  # the engine's mix (log_mix) at each weight
        return [float(np.mean(log_mix(p, q, w).argmax(axis=1) == y)) for w in weights]

    accuracy = by_weight(q := crnn.digit_probabilities(lines, passes))
    best = int(np.argmax(accuracy))
    mixed = log_mix(p, q, weights[best]).argmax(axis=1)
    gated = {below: float(np.mean(np.where(p.max(axis=1) < below, mixed, p.argmax(axis=1)) == y))
             for below in CONSULT_BELOW}
    below = min(b for b, a in gated.items() if a >= accuracy[best])
    form_accuracy = by_weight(crnn.digit_probabilities([mnist_line(a) for a in x], 1))
    return {"about": f"string_weight: the weight of the CRNN's log probabilities (each crop's file read as a line, "
                     f"{passes} pass(es)) beside the digit CNN's; consult_below: the CNN's confidence below which the "
                     f"CRNN is asked; mnist_form: the same for digits given in MNIST form only, without their file "
                     f"(drawn as a line, one pass); chosen on the {split} split's digit crops of ORAND-CAR-A "
                     f"(python -m ml.strings --fit-ensemble)",
            "string_model_version": crnn.card["version"], "passes": passes, "string_weight": float(weights[best]),
            "consult_below": below,
            "mnist_form": {"passes": 1, "string_weight": float(weights[int(np.argmax(form_accuracy))]),
                           "accuracy_by_weight": dict(zip(map(str, weights), form_accuracy))},
            "fitted_on": {"split": split, "crops": len(y), "cnn_accuracy": float(np.mean(p.argmax(axis=1) == y)),
                          "consulted": float(np.mean(p.max(axis=1) < below)),
                          "accuracy_by_weight": dict(zip(map(str, weights), accuracy)),
                          "accuracy_by_consult_below": {str(b): a for b, a in gated.items()}}}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--fit-calibration", type=Path, metavar="DIR",
                       help="ORAND-CAR-A directory (images/, labels.csv, boxes.json); fits on its validation split")
    which.add_argument("--fit-photo-calibration", type=Path, nargs="+", metavar="DIR",
                       help="sets of generated photos (ml.photos: images/, labels.csv): the table for photos of sheets")
    which.add_argument("--fit-ensemble", type=Path, metavar="DIR",
                       help="ORAND-CAR-A directory: the CRNN's weight in the single-digit engine, on validation crops")
    parser.add_argument("--model-dir", type=Path, default=STRINGS_DIR,
                        help="the CRNN's folder, whose card the fit is written into; beside a digit model, in its "
                        "parent folder (as ml/models/strings), which re-reads characters and takes the ensemble")
    args = parser.parse_args(argv)
    for needed in (args.model_dir / "model_card.json", args.model_dir.parent / "model_card.json"):
        if not needed.is_file():
            parser.error(f"no {needed}: --model-dir is a CRNN's folder inside a digit model's, as ml/models/strings")
    if args.fit_ensemble:
        fitted = fit_ensemble(args.fit_ensemble, args.model_dir.parent)
        card_path = args.model_dir.parent / "model_card.json"
        card = json.loads(card_path.read_text())
        card["ensemble"] = fitted
        card_path.write_text(json.dumps(card, indent=2) + "\n")
        print(f"{card_path}: the CRNN's weight {fitted['string_weight']} on {fitted['fitted_on']['crops']} crops")
        return
    # In this order: re-reading cuts characters at boxes placed by the lag, and calibration sees the final readings.
    card_path = args.model_dir / "model_card.json"
    if args.fit_photo_calibration:
        card = json.loads(card_path.read_text())
        card["photo_calibration"] = fitted = fit_photo_calibration(args.fit_photo_calibration, args.model_dir)
        card_path.write_text(json.dumps(card, indent=1) + "\n")
        print(f"{card_path}: photo_calibration fitted on {fitted['fitted_on']}")
        return
    for key, fit in (("alignment", fit_alignment), ("reread", fit_reread), ("calibration", fit_calibration)):
        card = json.loads(card_path.read_text())
        card[key] = fitted = fit(args.fit_calibration, args.model_dir)
        card_path.write_text(json.dumps(card, indent=1) + "\n")
        print(f"{card_path}: {key} fitted on {fitted['fitted_on']}")


if __name__ == "__main__":
    main()
