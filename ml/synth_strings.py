"""Synthetic lines of handwritten digits (cheque amounts) for the CRNN, and the normalisation it reads through.

    synth = LineSynth(mnist_images, mnist_labels, crops=orand_train_crops(root), seed=0)
    image, label = synth.line()        # uint8 grey (dark ink on light paper, like a scan), "40213"
    x = normalise_line(image)          # float32 (HEIGHT, WIDTH) ink in [0, 1], what the model sees

A line is 1-10 digits drawn from MNIST training digits (and, when given, ORAND-CAR-A train-split digit
crops), each with its own scale, slant, stroke width and baseline, spaced from a gap to an overlap, with
separators (. , - / $ =) that are not in the label, on a paper with guilloche-like sine patterns, guide
lines or a box, then blurred, noised and JPEG-compressed. Everything is drawn from one NumPy generator, so
a seed fixes the lines.
"""
import io
import json
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter
from scipy import ndimage

from ml.data import orand_split

HEIGHT, WIDTH = 32, 256  # the model's input; ORAND fields are at most about 7 times wider than high
SEPARATORS = ".,-/$="
# Share of lines of each length 1-10: ORAND amounts are mostly 3-6 digits; every length is drawn.
LENGTHS = np.array([4, 6, 12, 16, 16, 14, 11, 9, 7, 5], float) / 100


def normalise_line(image):
    """A grey line (2-D array, dark ink on light paper) -> float32 (HEIGHT, WIDTH), ink 1 on 0, left-aligned."""
    found = line_ink(image)
    return np.zeros((HEIGHT, WIDTH), np.float32) if found is None else fit_line(found[0])


def ink_of(grey):
    """Ink in [0, 1] of a grey scan (dark on light), its paper 0: the paper level is the median (most of a field is
    paper), the ink scale the darkest percentile, so that the contrast of a scan does not matter."""
    grey = np.asarray(grey, dtype=np.float32)
    paper = np.median(grey)
    return np.clip((paper - grey) / max(paper - np.percentile(grey, 0.5), 40.0), 0.0, 1.0)


def line_ink(image):
    """The ink of a grey line (2-D array, dark ink on light paper), float32 in [0, 1], cropped to its band;
    and the crop's (top, left). None when there is no ink.
    """
    ink = ink_of(image)
    rows, cols = np.nonzero(ink > 0.5)
    if len(rows) == 0:
        return None
    top, left = max(rows.min() - 1, 0), max(cols.min() - 1, 0)
    return ink[top: rows.max() + 2, left: cols.max() + 2], (int(top), int(left))


def fitted_width(height, width):
    """The width a band of ink this size takes in the model's input: scaled to HEIGHT keeping the aspect,
    squeezed if it would be wider than WIDTH."""
    return int(np.clip(round(width * HEIGHT / height), 1, WIDTH))


def fit_line(ink):
    """Cropped ink -> the model's (HEIGHT, WIDTH) input: scaled to HEIGHT, padded with paper on the right."""
    new_w = fitted_width(*ink.shape)
    scaled = np.asarray(Image.fromarray(ink).resize((new_w, HEIGHT), Image.BILINEAR), np.float32)
    out = np.zeros((HEIGHT, WIDTH), np.float32)
    out[:, :new_w] = np.clip(scaled, 0.0, 1.0)
    return out


def crop_ink(ink, threshold=0.1):
    """The bounding box of the ink of a 2-D array in [0, 1]."""
    rows, cols = np.nonzero(ink > threshold)
    return ink[rows.min(): rows.max() + 1, cols.min(): cols.max() + 1]


def orand_train_crops(root):
    """Isolated digit crops of the ORAND-CAR-A **train** split only, as (ink in [0, 1], digit)."""
    root = Path(root)
    train = set(orand_split("train"))
    boxes = json.loads((root / "boxes.json").read_text())
    crops = []
    for name in sorted(train & set(boxes)):
        ink = ink_of(Image.open(root / "images" / name).convert("L"))
        for item in boxes[name]:
            x, y, w, h = item["bbox"]
            # Only crops no other box overlaps, so each holds one digit.
            if any(o is not item and o["bbox"][0] < x + w and o["bbox"][0] + o["bbox"][2] > x for o in boxes[name]):
                continue
            crop = ink[y: y + h, x: x + w]
            if crop.size and (crop > 0.1).any():
                crops.append((crop_ink(crop), int(item["digit"])))
    return crops


def ink_lean(digit):
    """How far a digit's ink (MNIST form, ink high) leans from upright along its long axis, in degrees; positive
    with its top to the right."""
    rows, columns = np.nonzero(np.asarray(digit) > 128)
    across, up = np.linalg.eigh(np.cov(np.vstack([columns, -rows])))[1][:, -1]  # rows count downwards
    return float(np.degrees(np.arctan2(across, up) if up > 0 else np.arctan2(-across, -up)))


def continental(digit, label, rng):
    """A 7 crossed at its middle, or a 1 given a long flag, as much of Europe and Latin America writes them; MNIST
    (American writers) has few of either. ``digit``: MNIST form (28 x 28, ink high, 0-255); other digits are
    returned as they are."""
    if label not in (1, 7):
        return digit
    rows, cols = np.nonzero(np.asarray(digit) > 128)
    if not len(rows):
        return digit
    top, height = rows.min(), rows.max() + 1 - rows.min()
    image = Image.fromarray(np.asarray(digit, np.uint8))
    draw = ImageDraw.Draw(image)
    pen = int(rng.integers(2, 4))
    if label == 7:  # a bar across the stem, a little above or below its middle
        row = int(top + height * rng.uniform(0.45, 0.62))
        stem = cols[np.abs(rows - row) <= 1]
        middle = float(stem.mean()) if len(stem) else float(cols.mean())
        half = height * rng.uniform(0.18, 0.3)
        tilt = height * rng.uniform(-0.06, 0.03)
        draw.line((middle - half, row - tilt, middle + half, row + tilt), fill=255, width=pen)
    else:  # a flag from the top down to the left, 25-50 degrees off the stem: a fifth to two fifths of the height
        start = float(cols[rows <= top + 1].mean())
        # Off the stem, not off upright: a 1 leaning right already runs down to the left from its top, and a flag
        # measured from upright would lie along it.
        lean = max(ink_lean(digit), 0.0)
        length, angle = height * rng.uniform(0.2, 0.4), np.radians(min(lean + rng.uniform(25, 50), 75))
        draw.line((start, top, start - length * np.sin(angle), top + length * np.cos(angle)), fill=255, width=pen)
    return np.asarray(image.filter(ImageFilter.GaussianBlur(0.5)), np.float32)


class LineSynth:
    """Draws (grey uint8 line, digit string) pairs; ``crop_share`` of the digits come from ``crops``, and
    ``continental_share`` of the MNIST 1s and 7s are written the continental way (``continental``)."""

    def __init__(self, images, labels, crops=None, seed=0, crop_share=0.3, continental_share=0.0):
        self.images, self.labels = images, labels
        self.crops = crops or []
        self.crop_share = crop_share if self.crops else 0.0
        self.continental_share = continental_share
        self.rng = np.random.default_rng(seed)

    def digit(self, d=None):
        """The ink (float in [0, 1], cropped) of one random digit, of class d if given, and its class."""
        rng = self.rng
        if rng.random() < self.crop_share:
            pool = self.crops if d is None else [c for c in self.crops if c[1] == d]
            if pool:
                return pool[rng.integers(len(pool))]
        if d is None:
            i = rng.integers(len(self.images))
        else:
            i = rng.choice(np.flatnonzero(self.labels == d))
        digit, label = self.images[i], int(self.labels[i])
        # No draw at 0 or for other digits: the shipped recipe's lines stay as they were.
        if self.continental_share and label in (1, 7) and rng.random() < self.continental_share:
            digit = continental(digit, label, rng)
        return crop_ink(digit / 255.0), label

    def style(self, ink, height):
        """Scale to ``height`` (with an aspect jitter), slant and change the stroke width of one digit."""
        rng = self.rng
        h, w = ink.shape
        scale = height / h
        new_w = max(1, round(w * scale * rng.uniform(0.8, 1.2)))
        ink = np.asarray(Image.fromarray(ink.astype(np.float32)).resize((new_w, height), Image.BILINEAR))
        shear = rng.uniform(-0.35, 0.35)
        pad = int(abs(shear) * height) + 1
        ink = np.pad(ink, ((0, 0), (pad, pad)))
        # x_in = x_out + shear * (y - centre): a slant about the digit's middle row.
        ink = ndimage.affine_transform(ink, [[1, 0], [shear, 1]], offset=[0, -shear * height / 2], order=1)
        stroke = rng.random()
        if stroke < 0.2:
            ink = ndimage.grey_dilation(ink, size=(2, 2))
        elif stroke < 0.35:
            ink = ndimage.grey_erosion(ink, size=(2, 1))
        return crop_ink(np.clip(ink, 0, 1)) if (ink > 0.1).any() else ink

    def separator(self, char, height):
        """One separator glyph drawn with a pen, as ink, and its vertical offset from the digits' top."""
        rng = self.rng
        w = max(3, int(height * {".": 0.2, ",": 0.2, "-": 0.5, "/": 0.5, "$": 0.6, "=": 0.5}[char]))
        canvas = Image.new("F", (w, height), 0.0)
        draw = ImageDraw.Draw(canvas)
        pen = max(1, round(height * rng.uniform(0.06, 0.12)))
        bottom, mid = height - pen, height // 2
        if char == ".":
            draw.ellipse((0, bottom - pen, 2 * pen, bottom + pen - 1), fill=1.0)
        elif char == ",":
            draw.line((w - 1, bottom - 2 * pen, 0, height - 1), fill=1.0, width=pen)
        elif char == "-":
            draw.line((0, mid, w - 1, mid), fill=1.0, width=pen)
        elif char == "/":
            draw.line((w - 1, 0, 0, height - 1), fill=1.0, width=pen)
        elif char == "=":
            draw.line((0, mid - 2 * pen, w - 1, mid - 2 * pen), fill=1.0, width=pen)
            draw.line((0, mid + 2 * pen, w - 1, mid + 2 * pen), fill=1.0, width=pen)
        else:  # "$": an S and a bar through it
            draw.arc((0, 2, w - 1, mid), 90, 360, fill=1.0, width=pen)
            draw.arc((0, mid, w - 1, height - 3), 270, 180, fill=1.0, width=pen)
            draw.line((w // 2, 0, w // 2, height - 1), fill=1.0, width=pen)
        return np.asarray(canvas)

    def compose(self, pieces, height, gaps):
        """Paste inks left to right, the next one starting ``gap`` px after the previous one's right edge
        (negative: touching or overlapping), with a vertical jitter; the pixel-wise maximum is the ink."""
        rng = self.rng
        width = sum(p.shape[1] for p in pieces) + int(sum(max(g, 0) for g in gaps)) + 2
        canvas = np.zeros((2 * height, width + 2 * height), np.float32)
        x, spans = height // 2, []
        for ink, gap in zip(pieces, [0] + list(gaps)):
            x = max(0, x + int(gap))
            y = height // 2 + int(rng.integers(-height // 10, height // 10 + 1)) + (height - ink.shape[0]) // 2
            canvas[y: y + ink.shape[0], x: x + ink.shape[1]] = np.maximum(
                canvas[y: y + ink.shape[0], x: x + ink.shape[1]], ink)
            spans.append((x, x + ink.shape[1]))
            x += ink.shape[1]
        return canvas, spans

    def ink_line(self, digits=None, height=None):
        """The ink (float, ink 1 on 0) of a line of the given digits (random if None), and its label."""
        rng = self.rng
        height = height or int(rng.integers(18, 40))
        if digits is None:
            digits = [None] * int(rng.choice(np.arange(1, 11), p=LENGTHS))
        pieces, label, gaps = [], "", []
        if rng.random() < 0.15:
            pieces.append(self.separator("$", height))
            gaps.append(rng.uniform(0.05, 0.3) * height)
        for i, d in enumerate(digits):
            ink, d = self.digit(d)
            pieces.append(self.style(ink, max(6, round(height * rng.uniform(0.8, 1.1)))))
            label += str(d)
            if i + 1 < len(digits):
                if rng.random() < 0.12:
                    pieces.append(self.separator(SEPARATORS[rng.integers(4)], height))
                    gaps.append(rng.uniform(0.0, 0.2) * height)
                gaps.append(rng.uniform(-0.15, 0.4) * height)
        if rng.random() < 0.1:
            pieces.append(self.separator(SEPARATORS[rng.integers(6)], height))
            gaps.append(rng.uniform(0.05, 0.3) * height)
        canvas, _ = self.compose(pieces, height, gaps)
        return crop_ink(canvas) if (canvas > 0.1).any() else canvas, label

    def paper(self, ink, background=None):
        """Put the ink on a scanned-paper background: texture, guide lines or a box, blur, noise, JPEG.
        ``background`` ("plain", "guilloche", "guide line" or "box") forces that kind; random when None."""
        rng = self.rng
        m = int(rng.integers(2, 10))
        ink = np.pad(ink, ((m, m), (m, int(rng.integers(2, 10)))))
        h, w = ink.shape
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        paper = np.full((h, w), rng.uniform(150, 235), np.float32)
        # The draws stay the same whether forced or not, so that a seed gives the lines it always gave.
        guilloche = rng.random() < 0.5
        if background is not None:
            guilloche = background == "guilloche"
        if guilloche:  # a few crossing sine waves of low contrast
            for _ in range(int(rng.integers(1, 4))):
                f, phase, amp = rng.uniform(0.05, 0.4), rng.uniform(0, 6.3), rng.uniform(3, 15)
                paper -= amp * (0.5 + 0.5 * np.sin(f * xx + rng.uniform(-0.5, 0.5) * yy + phase
                                                   + rng.uniform(0, 3) * np.sin(0.05 * xx)))
        lines = np.zeros_like(ink)
        kind = rng.random()
        if background is not None:
            kind = {"guide line": 0.1, "box": 0.25}.get(background, 1.0)
        if kind < 0.2:  # a guide line under the digits
            y = int(rng.integers(h - m - 2, h - 1))
            lines[y, :] = rng.uniform(0.3, 0.8)
        elif kind < 0.3:  # a box around the field
            lines[[0, -1], :] = lines[:, [0, -1]] = rng.uniform(0.3, 0.8)
        ink = np.maximum(ink, lines)
        pen = rng.uniform(10, 110)
        grey = paper - (paper - pen) * ink
        if rng.random() < 0.7:
            grey = ndimage.gaussian_filter(grey, rng.uniform(0.3, 1.1))
        grey += rng.normal(0, rng.uniform(0, 8), grey.shape)
        image = Image.fromarray(np.clip(grey, 0, 255).astype(np.uint8))
        if rng.random() < 0.5:
            buffer = io.BytesIO()
            image.save(buffer, "JPEG", quality=int(rng.integers(30, 95)))
            image = Image.open(buffer)
        return np.asarray(image.convert("L"))

    def line(self, digits=None):
        """(grey uint8 image, digit string) of one synthetic field."""
        ink, label = self.ink_line(digits)
        return self.paper(ink), label

