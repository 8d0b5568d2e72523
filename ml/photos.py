"""Generated photos of handwriting on paper lying on a desk: a test set for reading digits in real photos.

    python -m ml.photos --mnist ../shared/data/mnist.npz --out var/photos --count 1000
    python -m ml.photos --mnist ../shared/data/mnist.npz --out var/photos-tune --count 300 --seed 7
    python -m ml.photos --mnist ../shared/data/mnist.npz --out var/photo-strings --count 300 --strings
    python -m ml.evaluate --photos var/photos          # single digits; --strings DIR for lines of digits
    python -m ml.photos --mnist ../shared/data/mnist.npz --out var/drawn-strings --count 300 --strings --drawings
    python -m ml.photos --mnist ../shared/data/mnist.npz --out var/lean25 --count 100 --drawings --lean 25
    python -m ml.photos --mnist ../shared/data/mnist.npz --out var/continental --count 100 --drawings --continental
    python -m ml.photos --mnist ../shared/data/mnist.npz --out var/flagged-1s --count 150 --continental --digit 1
    python -m ml.photos --orand ../shared/data/orand-car-a --split validation --out var/cheque-photos --seed 7

Each photo holds one MNIST *test* digit (or, with --strings, a line of 2 to 6 of them), so nothing overlaps
the training data. The digits are scaled up and drawn as pen ink (blue, black or dark grey, with the stroke
width varied) on off-white paper with a fibre texture. The paper lies on a desk (wood grain, a dark desk,
patterned fabric or a keyboard-like grid of keys) with its edges in view on one to four sides, under a cast
shadow (a soft band or a hand-like blob) and uneven light, rotated by up to 10 degrees and seen in
perspective. The photo is then blurred, given sensor noise, sized like a phone photo (longer side 1000 to
3000 px) and saved as JPEG at quality 40 to 95. The scene is composed at no more than COMPOSE_SIDE px and
scaled up to the photo's size, as the engine reads photos reduced anyway.

--orand DIR photographs real cheque amount fields instead (ORAND-CAR-A, one photo of each field of --split: the
sheet printed with the field's scan, `field_photo`).

--drawings makes the same digits into drawings as the drawing page sends them instead (PNG, white canvas, round
pen of the page's width: `drawing`). --drawings --lean DEGREES makes numbers of four digits, two of them upright
MNIST 1s sheared to lean DEGREES (`leaning_sample`): the synthetic training lines' slash separator leans about 27
degrees, and a reader that takes a 1 leaning so for it leaves the 1 out. --drawings --continental makes numbers of
four digits, two of them MNIST 1s or 7s written the continental way, 1s flagged and 7s crossed
(`continental_sample`, with the training lines' `ml.synth_strings.continental`); --continental --digit 1 (or 7)
makes single 1s flagged (7s crossed), as grey uploads at four times MNIST's size or, with --drawings, drawn
(`continental_digit_sample`).

Writes DIR/images/NNNNN.jpg (.png for drawings) and DIR/labels.csv (file,digits). Photo i depends only on the
seed and i, so a set of N photos is the first N of any larger one. Seed 12 (REPORT_SEED, the default) makes
the set whose figures are quoted; tuning uses seed 7 (TUNE_SEED) and never the reported set.
"""
import argparse
import csv
import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter
from scipy import ndimage

from ml.synth_strings import continental, ink_lean

REPORT_SEED, TUNE_SEED = 12, 7
COMPOSE_SIDE = 1200
SIDES = (1000, 3000)  # longer side of the photo, px
ASPECTS = (1.0, 4 / 3, 3 / 2, 16 / 9)
INKS = {"blue": (0.10, 0.16, 0.55), "black": (0.06, 0.06, 0.08), "dark grey": (0.28, 0.28, 0.30)}
DESKS = ("wood", "dark desk", "fabric", "keyboard")


def _noise(rng, shape, cells):
    """Smooth random field of unit spread: normal noise on a coarse grid of ``cells``, scaled up bicubically."""
    coarse = rng.normal(size=(max(2, shape[0] * cells // max(shape)), max(2, shape[1] * cells // max(shape))))
    return np.asarray(Image.fromarray(coarse.astype(np.float32)).resize(shape[::-1], Image.Resampling.BICUBIC))


def _desk(rng, shape, kind):
    """RGB float32 (h, w, 3) in [0, 1]: the surface the paper lies on."""
    h, w = shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32) / max(shape)
    if kind == "wood":
        angle = rng.uniform(0, np.pi)
        across = xs * np.cos(angle) + ys * np.sin(angle) + 0.04 * _noise(rng, shape, 6)
        grain = 0.5 + 0.5 * np.sin(across * rng.uniform(40, 120)) ** 3 + 0.1 * _noise(rng, shape, 200)
        light, dark = np.array([0.72, 0.52, 0.32]), np.array([0.42, 0.26, 0.14])
        return (dark + np.clip(grain, 0, 1)[..., None] * (light - dark)) * rng.uniform(0.6, 1.1)
    if kind == "dark desk":
        level = rng.uniform(0.08, 0.25) + 0.03 * _noise(rng, shape, 8) + 0.015 * _noise(rng, shape, 300)
        return level[..., None] * rng.uniform(0.9, 1.1, 3)
    if kind == "fabric":
        period = rng.uniform(0.01, 0.05)
        weave = np.sin(xs * 2 * np.pi / period) * np.sin(ys * 2 * np.pi / period * rng.uniform(0.5, 2))
        stripes = np.sin((xs + ys * rng.uniform(-1, 1)) * 2 * np.pi / (period * rng.integers(3, 10)))
        mix = np.clip(0.5 + 0.3 * weave + 0.3 * stripes + 0.05 * _noise(rng, shape, 100), 0, 1)
        first, second = rng.uniform(0.1, 0.8, 3), rng.uniform(0.1, 0.8, 3)
        return first + mix[..., None] * (second - first)
    # A keyboard: key faces in rows with darker gaps, each key with a small legend.
    pitch = int(max(shape) * rng.uniform(0.05, 0.1))
    face, gap = rng.uniform(0.15, 0.85), rng.uniform(0.03, 0.12)
    image = Image.new("L", (w, h), int(gap * 255))
    draw = ImageDraw.Draw(image)
    legend = int(255 * (face - 0.5 * np.sign(face - 0.5) * 0.8))
    for row, top in enumerate(range(-pitch, h, pitch)):
        for left in range(-pitch + row * pitch // 3 % pitch, w, pitch):
            draw.rounded_rectangle((left + 3, top + 3, left + pitch - 4, top + pitch - 4), radius=pitch // 8,
                                   fill=int(face * 255))
            size = pitch // 6
            draw.line((left + pitch // 3, top + pitch // 3, left + pitch // 3 + size, top + pitch // 3 + size),
                      fill=legend, width=max(1, pitch // 25))
    return (np.asarray(image, np.float32) / 255)[..., None] * np.ones(3, np.float32)


def _writing(rng, digits, height):
    """Ink coverage (float32, [0, 1]) of digits (arrays, ink high) written in a line, each ``height`` px tall,
    with one pen: the stroke width is changed on a 4x (112 px) version of each digit."""
    grow = int(rng.choice([-3, 0, 0, 3, 5]))  # erode thin, keep, or dilate thick
    strength = rng.uniform(0.85, 1.0)
    glyphs = []
    for digit in digits:
        size = height * rng.uniform(0.9, 1.1) if len(digits) > 1 else height
        big = Image.fromarray(np.asarray(digit, np.uint8)).resize((112, 112), Image.Resampling.BICUBIC)
        big = np.asarray(big, np.float32) / 255
        if grow:
            big = (ndimage.grey_dilation if grow > 0 else ndimage.grey_erosion)(big, size=abs(grow))
        pen = np.clip((big - 0.35) / 0.3, 0, 1) * strength  # a pen's edge is sharper than MNIST's grey levels
        glyphs.append(np.asarray(Image.fromarray(pen).resize((round(size), round(size)), Image.Resampling.BILINEAR)))
    gaps = [int(height * rng.uniform(-0.15, 0.1)) for _ in glyphs[1:]]  # MNIST's margins make these positive
    width = sum(g.shape[1] for g in glyphs) + sum(gaps)
    line = np.zeros((int(height * 1.3), width), np.float32)
    left = 0
    for glyph, gap in zip(glyphs, [0, *gaps]):
        left += gap
        top = int(rng.uniform(0, line.shape[0] - glyph.shape[0]))
        region = line[top: top + glyph.shape[0], left: left + glyph.shape[1]]
        np.maximum(region, glyph, out=region)
        left += glyph.shape[1]
    return line


def _perspective(dest, src):
    """PIL's PERSPECTIVE coefficients mapping output points ``dest`` to input points ``src`` (4 each)."""
    rows, rhs = [], []
    for (x, y), (u, v) in zip(dest, src):
        rows += [[x, y, 1, 0, 0, 0, -u * x, -u * y], [0, 0, 0, x, y, 1, -v * x, -v * y]]
        rhs += [u, v]
    return np.linalg.solve(np.array(rows, float), np.array(rhs, float))


def _shadow(rng, shape):
    """Multiplicative shade (h, w): a soft band across the photo or the blurred blob of a hand."""
    h, w = shape
    depth = rng.uniform(0.25, 0.55)
    if rng.random() < 0.5:
        angle = rng.uniform(0, 2 * np.pi)
        ys, xs = np.ogrid[0:h, 0:w]
        across = (xs * np.cos(angle) + ys * np.sin(angle)) / max(shape)
        edge = rng.uniform(np.percentile(across, 20), np.percentile(across, 70))
        soft = rng.uniform(0.01, 0.06)
        return 1 - depth / (1 + np.exp(-(across - edge) / soft))
    # A hand from one side of the photo: a palm and four fingers, blurred as by a distant light.
    blob = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(blob)
    unit = max(shape) * rng.uniform(0.1, 0.18)
    cx, cy = rng.uniform(0, w), rng.choice([rng.uniform(-0.1, 0.1), rng.uniform(0.9, 1.1)]) * h
    draw.ellipse((cx - 1.5 * unit, cy - 1.5 * unit, cx + 1.5 * unit, cy + 1.5 * unit), fill=255)
    toward = 1 if cy < h / 2 else -1
    for finger in range(4):
        x = cx + (finger - 1.5) * 0.7 * unit
        tip = cy + toward * rng.uniform(2.3, 3.2) * unit
        draw.ellipse((x - 0.3 * unit, min(cy, tip), x + 0.3 * unit, max(cy, tip)), fill=255)
    blob = blob.filter(ImageFilter.GaussianBlur(unit * rng.uniform(0.15, 0.5)))
    return 1 - depth * np.asarray(blob, np.float32) / 255


def compose(rng, digits, size=None, field=None):
    """One photo (RGB Pillow image) of ``digits`` (2-D arrays, ink high, e.g. MNIST's 28x28) in a line on
    paper on a desk; ``size`` (width, height) defaults to a random phone-photo size. With ``field`` (a grey scan,
    0-255, e.g. a cheque's amount field) instead of digits, the paper is printed with that field."""
    if size is None:
        longer, aspect = int(rng.integers(SIDES[0], SIDES[1] + 1)), rng.choice(ASPECTS)
        size = (longer, round(longer / aspect))
        size = size if rng.random() < 0.5 else size[::-1]
    scale = min(1.0, COMPOSE_SIDE / max(size))
    w, h = round(size[0] * scale), round(size[1] * scale)

    # The paper's rectangle: each side either in view, with desk beyond it, or past the edge of the photo.
    in_view = rng.random(4) < 0.6
    in_view[rng.integers(4)] = True
    margins = np.where(in_view, rng.uniform(0.03, 0.2, 4), -rng.uniform(0.02, 0.1, 4))
    left, top, right, bottom = margins * [w, h, w, h]
    paper_w, paper_h = round(w - left - right), round(h - top - bottom)

    tint = np.array([0.96, 0.95, 0.91]) + rng.uniform(-0.03, 0.03, 3)
    fibre = 0.015 * _noise(rng, (paper_h, paper_w), 40) + 0.01 * rng.normal(size=(paper_h, paper_w))
    paper = np.clip(tint * (1 + fibre[..., None]), 0, 1)

    # The writing, within the part of the paper in view, clear of the edges that rotation may bring in.
    clear = 0.1 * min(w, h)
    x_from, x_to = max(left, 0) + clear, w - max(right, 0) - clear
    y_from, y_to = max(top, 0) + clear, h - max(bottom, 0) - clear
    height = min(y_to - y_from, min(w, h) * (rng.uniform(0.2, 0.5) if len(digits) == 1 else rng.uniform(0.1, 0.2)))
    ink = _writing(rng, digits, height / 1.3) if field is None else _printed(field, height)
    if ink.shape[1] > x_to - x_from:
        ink = np.asarray(Image.fromarray(ink).resize(
            (int(x_to - x_from), max(1, int(ink.shape[0] * (x_to - x_from) / ink.shape[1]))),
            Image.Resampling.BILINEAR))
    # Centre of the writing in photo coordinates, then its corner in paper coordinates.
    x = rng.uniform(x_from + ink.shape[1] / 2, x_to - ink.shape[1] / 2)
    y = rng.uniform(y_from + ink.shape[0] / 2, y_to - ink.shape[0] / 2)
    x0, y0 = round(x - left - ink.shape[1] / 2), round(y - top - ink.shape[0] / 2)
    # A field is printed in black, so its scan's darkness multiplies the paper; writing is in a pen's colour.
    pen = np.array(INKS[rng.choice(list(INKS))]) + rng.uniform(-0.04, 0.04, 3) if field is None else np.zeros(3)
    region = paper[y0: y0 + ink.shape[0], x0: x0 + ink.shape[1]]
    alpha = ink[: region.shape[0], : region.shape[1], None]
    region[:] = region * (1 - alpha) + pen * alpha

    # Rotation about the photo's centre and a perspective wobble of each corner.
    angle = np.radians(rng.uniform(-10, 10))
    corners = np.array([[left, top], [w - right, top], [w - right, h - bottom], [left, h - bottom]])
    centre = np.array([w, h]) / 2
    turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    dest = (corners - centre) @ turn.T + centre + rng.normal(0, 0.015 * max(w, h), (4, 2))
    coeffs = _perspective(dest, [(0, 0), (paper_w, 0), (paper_w, paper_h), (0, paper_h)])
    sheet = Image.fromarray(np.round(paper * 255).astype(np.uint8))
    sheet = sheet.transform((w, h), Image.Transform.PERSPECTIVE, coeffs, Image.Resampling.BICUBIC)
    cover = Image.new("L", (paper_w, paper_h), 255).transform(
        (w, h), Image.Transform.PERSPECTIVE, coeffs, Image.Resampling.BILINEAR)
    cover = np.asarray(cover, np.float32)[..., None] / 255
    scene = _desk(rng, (h, w), rng.choice(DESKS)) * (1 - cover) + np.asarray(sheet, np.float32) / 255 * cover

    # Light: a gradient across the photo, a vignette, a colour cast, and most times a shadow.
    ys, xs = np.ogrid[-1:1:h * 1j, -1:1:w * 1j]
    direction = rng.uniform(0, 2 * np.pi)
    light = 1 + rng.uniform(0, 0.2) * (xs * np.cos(direction) + ys * np.sin(direction))
    light = light * (1 - rng.uniform(0, 0.3) * (xs**2 + ys**2) / 2) * rng.uniform(0.8, 1.05)
    if rng.random() < 0.75:
        light = light * _shadow(rng, (h, w))
    scene = scene * light[..., None] * rng.uniform(0.95, 1.05, 3)

    photo = Image.fromarray(np.round(np.clip(scene, 0, 1) * 255).astype(np.uint8))
    if photo.size != tuple(size):
        photo = photo.resize(size, Image.Resampling.BICUBIC)
    photo = photo.filter(ImageFilter.GaussianBlur(rng.uniform(0, 1.5) * max(size) / 1000))
    grain = rng.normal(0, rng.uniform(1, 4), (size[1], size[0], 1)).astype(np.float32)
    return Image.fromarray(np.clip(np.asarray(photo, np.float32) + grain, 0, 255).astype(np.uint8))


def _printed(field, height):
    """A grey scan's darkness (float32, [0, 1]) scaled to ``height`` px, its paper (the 95th percentile) at 0."""
    grey = np.asarray(field, np.float32)
    darkness = np.clip(1 - grey / max(np.percentile(grey, 95), 1), 0, 1)
    width = max(1, round(grey.shape[1] * height / grey.shape[0]))
    return np.asarray(Image.fromarray(darkness).resize((width, max(1, round(height))), Image.Resampling.BICUBIC))


def photo_sample(images, labels, seed, index, strings=False, size=None):
    """Photo ``index`` of the set made with ``seed``: (JPEG bytes, label string). ``images`` and ``labels``
    are the digits to draw from (MNIST test images and their classes)."""
    rng = np.random.default_rng([seed, index])
    digits, label = _pick(rng, images, labels, strings)
    return _encoded(compose(rng, digits, size), "JPEG", quality=int(rng.integers(40, 96))), label


def _pick(rng, images, labels, strings):
    """The digits of one sample, one or (strings) 2-6 drawn at random, and their label string."""
    picks = rng.integers(len(images), size=int(rng.integers(2, 7)) if strings else 1)
    return [images[i] for i in picks], "".join(str(int(labels[i])) for i in picks)


def field_photo(field, seed, index, size=None):
    """A phone photo of a cheque's field (a grey scan), JPEG bytes: photo ``index`` of the --orand set made with
    ``seed``, as the photos of digits are made."""
    rng = np.random.default_rng([seed, index, 3])
    return _encoded(compose(rng, [], size, field=field), "JPEG", quality=int(rng.integers(40, 96)))


# The drawing page (static/js/draw.js): a white canvas, 560 x 560 for one digit or 1,120 x 280 for a number, and a
# round pen of a twentieth of its shorter side in #111, antialiased.
CANVAS = {False: (560, 560), True: (1120, 280)}
CANVAS_INK = 0x11


def _pen(digit, size, width):
    """A digit (MNIST array, ink high) as drawn with a round pen ``width`` px wide in a square of ``size`` px: ink
    coverage in [0, 1]. The digit's medial axis (where its distance transform is within 0.75 px of the highest
    around: a stricter ridge breaks) is traced with the pen, at twice the size and reduced, as a canvas
    antialiases."""
    side = 2 * round(size)
    big = np.asarray(Image.fromarray(np.asarray(digit, np.uint8)).resize((side, side), Image.Resampling.BICUBIC))
    # Smoothed a little first: the steps of MNIST's pixels, enlarged, put spurs on the axis.
    distance = ndimage.distance_transform_edt(ndimage.gaussian_filter(big.astype(np.float32), side / 80) > 96)
    ridge = (distance >= ndimage.maximum_filter(distance, 3) - 0.75) & (distance > 1)
    pen = (ndimage.distance_transform_edt(~ridge) <= width).astype(np.float32)  # radius at 2x: the width
    return np.asarray(Image.fromarray(pen).resize((side // 2, side // 2), Image.Resampling.BOX))


def drawing(rng, digits):
    """One digit or a number drawn on the drawing page's canvas: grey PIL image. Digits are 40-62 % of the
    canvas's height, a number's each a little larger or smaller, higher or lower than the last, with gaps from
    touching to wide."""
    number = len(digits) > 1
    w, h = CANVAS[number]
    width = min(w, h) / 20
    height = h * rng.uniform(0.4, 0.62)  # a glyph (below) is then at most 0.96 of the canvas's height
    # MNIST's 20 px box sits in 28 px: a glyph of side s holds a digit about s * 20 / 28 tall.
    sides = np.array([height * 28 / 20 * (rng.uniform(0.9, 1.1) if number else 1) for _ in digits])
    gaps = np.array([height * rng.uniform(-0.45, -0.05) for _ in digits[1:]])  # glyphs' margins: ~0.4 of height
    total = sides.sum() + gaps.sum()
    if total > 0.95 * w:  # a long number is written smaller, with the same pen
        sides, gaps, total = sides * 0.95 * w / total, gaps * 0.95 * w / total, 0.95 * w
    glyphs = [_pen(d, side, width) for d, side in zip(digits, sides)]
    ink = np.zeros((h, w), np.float32)
    left = int(rng.uniform(0, w - total)) if total < w else 0
    for glyph, gap in zip(glyphs, [0, *gaps]):
        size = glyph.shape[0]
        left = min(left + int(gap), w - size)  # rounding may have left the last a pixel short of room
        top = int(np.clip(h / 2 - size / 2 + rng.normal(0, 0.05 * h), 0, h - size))
        region = ink[top: top + size, left: left + size]
        np.maximum(region, glyph, out=region)
        left += size
    return Image.fromarray(np.round(255 - (255 - CANVAS_INK) * ink).astype(np.uint8))


def drawing_sample(images, labels, seed, index, strings=False):
    """Drawing ``index`` of the set made with ``seed``: (PNG bytes, label string), as the drawing page sends it."""
    rng = np.random.default_rng([seed, index, 1])
    digits, label = _pick(rng, images, labels, strings)
    return _page_png(drawing(rng, digits)), label


def _page_png(image):
    """A drawing's file as the page uploads it (canvas.toBlob: RGBA PNG)."""
    return _encoded(image.convert("RGBA"), "PNG")


def _encoded(image, format, **options):
    """A PIL image's file in ``format`` (Pillow's save options as keywords): bytes."""
    buffer = io.BytesIO()
    image.save(buffer, format=format, **options)
    return buffer.getvalue()


# The 1s a --lean set shears: MNIST 1s whose ink's long axis is within this many degrees of upright.
UPRIGHT = 3


def lean(digit, degrees):
    """The digit (MNIST form) sheared so that an upright stroke leans ``degrees``, its top to the right."""
    digit = np.asarray(digit, np.float32)
    t, middle = np.tan(np.radians(degrees)), (digit.shape[0] - 1) / 2
    return ndimage.affine_transform(digit, [[1, 0], [t, 1]], offset=[0, -t * middle], order=1)


def upright_ones(images, labels):
    """Indices of the 1s among MNIST-form digits that stand within UPRIGHT degrees of upright."""
    return [i for i in np.flatnonzero(np.asarray(labels) == 1) if abs(ink_lean(images[i])) <= UPRIGHT]


def leaning_sample(images, labels, seed, index, degrees, ones=None):
    """Drawing ``index`` of a --lean set: a number of four digits as the drawing page sends it, two of them upright
    MNIST 1s made to lean ``degrees`` and two other digits, in random order; (PNG bytes, label). A reader that takes
    such 1s for the slash separator leaves them out. ``ones``: upright_ones(images, labels), found once for a set."""
    rng = np.random.default_rng([seed, index, 2])
    labels = np.asarray(labels)
    ones = upright_ones(images, labels) if ones is None else ones
    picked = [(lean(images[i], degrees), "1") for i in rng.choice(ones, 2, replace=False)]
    return _drawn_with_two_others(rng, picked, images, labels, labels != 1)


def continental_sample(images, labels, seed, index):
    """Drawing ``index`` of a --continental set: a number of four digits as the drawing page sends it, two of them
    MNIST 1s or 7s written the continental way (a 1 flagged, a 7 crossed) and two other digits, in random order;
    (PNG bytes, label)."""
    rng = np.random.default_rng([seed, index, 3])
    labels = np.asarray(labels)
    ones_and_sevens = np.flatnonzero((labels == 1) | (labels == 7))
    picked = [(continental(images[i], int(labels[i]), rng), str(int(labels[i])))
              for i in rng.choice(ones_and_sevens, 2, replace=False)]
    return _drawn_with_two_others(rng, picked, images, labels, (labels != 1) & (labels != 7))


def continental_digit_sample(images, labels, seed, index, digit, drawn=False):
    """Image ``index`` of a --continental --digit set: one MNIST test 1 or 7 (``digit``) written the continental way,
    as a grey upload four times MNIST's size (dark ink on white PNG) or, ``drawn``, as the drawing page sends it;
    (PNG bytes, label). The set's digits are a permutation of MNIST's, so none comes twice."""
    order = np.random.default_rng([seed, digit, 4]).permutation(np.flatnonzero(np.asarray(labels) == digit))
    rng = np.random.default_rng([seed, index, 4])
    glyph = continental(images[order[index % len(order)]], digit, rng)
    if drawn:
        return _page_png(drawing(rng, [glyph])), str(digit)
    image = Image.fromarray(np.round(255 - np.clip(glyph, 0, 255)).astype(np.uint8))
    return _encoded(image.resize((112, 112), Image.Resampling.BICUBIC), "PNG"), str(digit)


def _drawn_with_two_others(rng, picked, images, labels, others):
    """The --lean and --continental sets' number: the two (digit, label) picked and two digits where ``others``
    holds, in random order, drawn as the page draws; (PNG bytes, label)."""
    picked = picked + [(images[i], str(int(labels[i]))) for i in rng.choice(np.flatnonzero(others), 2, replace=False)]
    picked = [picked[k] for k in rng.permutation(len(picked))]
    return _page_png(drawing(rng, [digit for digit, _ in picked])), "".join(label for _, label in picked)


def main(argv=None):
    from ml.data import load_mnist

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mnist", help="MNIST .npz (Keras layout); its test images are drawn")
    parser.add_argument("--out", type=Path, required=True, help="writes OUT/images/*.jpg and OUT/labels.csv")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=REPORT_SEED,
                        help=f"{REPORT_SEED}: the reported set (default); {TUNE_SEED}: the set to tune on")
    parser.add_argument("--strings", action="store_true", help="a line of 2 to 6 digits on each photo")
    parser.add_argument("--drawings", action="store_true",
                        help="drawings as the drawing page sends them (PNG) instead of photos")
    parser.add_argument("--lean", type=float, metavar="DEGREES",
                        help="with --drawings: numbers of four digits, two of them upright MNIST 1s made to lean "
                        "DEGREES (top to the right)")
    parser.add_argument("--continental", action="store_true",
                        help="with --drawings: numbers of four digits, two of them 1s or 7s written the continental "
                        "way (1s flagged, 7s crossed); with --digit, single digits so written")
    parser.add_argument("--digit", type=int, choices=(1, 7),
                        help="with --continental: single MNIST test 1s (flagged) or 7s (crossed), as grey uploads "
                        "at four times MNIST's size, or with --drawings as the page draws them")
    parser.add_argument("--orand", type=Path, metavar="DIR",
                        help="ORAND-CAR-A directory: phone photos of the cheque fields of --split instead, one photo "
                        "of each (up to --count), with their labels as ml.data.orand_labels corrects them")
    parser.add_argument("--split", choices=("validation", "test"), default="validation", help="with --orand")
    args = parser.parse_args(argv)
    if args.lean is not None and not args.drawings:
        parser.error("--lean makes drawings: add --drawings")
    if args.continental and args.lean is not None:
        parser.error("--continental and --lean make two different sets: give one")
    if args.continental and not (args.drawings or args.digit):
        parser.error("--continental makes drawings of numbers (add --drawings) or single digits (add --digit 1 or 7)")
    if args.digit and (not args.continental or args.strings):
        parser.error("--digit picks the continental digit of single-digit images: add --continental, leave out "
                     "--strings")
    if args.orand and (args.drawings or args.strings):
        parser.error("--orand makes photos of cheque fields: leave out --drawings and --strings")
    if args.orand:
        from ml.data import orand_labels, orand_split

        labels = orand_labels(args.orand)  # corrected; the corrections never touch the test split
        sources = orand_split(args.split)[: args.count]
        samples = ((field_photo(np.asarray(Image.open(args.orand / "images" / source).convert("L")), args.seed, i),
                    labels[source]) for i, source in enumerate(sources))
        _write_set(args.out, samples, len(sources), "cheque photos", "jpg")
        return
    sample, kind, suffix = ((drawing_sample, "drawings", "png") if args.drawings else (photo_sample, "photos", "jpg"))
    _, (x_test, y_test) = load_mnist(args.mnist)
    if args.lean is not None:
        ones = upright_ones(x_test, y_test)

        def sample(images, labels, seed, index, _):
            return leaning_sample(images, labels, seed, index, args.lean, ones)

    if args.continental and args.digit:
        kind, suffix = f"continental {args.digit}s", "png"

        def sample(images, labels, seed, index, _):
            return continental_digit_sample(images, labels, seed, index, args.digit, args.drawings)

    elif args.continental:
        def sample(images, labels, seed, index, _):
            return continental_sample(images, labels, seed, index)

    samples = (sample(x_test, y_test, args.seed, index, args.strings) for index in range(args.count))
    _write_set(args.out, samples, args.count, kind, suffix)


def _write_set(out, samples, count, kind, suffix):
    """OUT/images/NNNNN.suffix and OUT/labels.csv (file,digits) from (bytes, label) samples, with a progress bar."""
    from tqdm import tqdm

    (out / "images").mkdir(parents=True, exist_ok=True)
    with open(out / "labels.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["file", "digits"])
        for index, (data, label) in enumerate(tqdm(samples, total=count, desc=kind, unit="image")):
            name = f"{index:05d}.{suffix}"
            (out / "images" / name).write_bytes(data)
            writer.writerow([name, label])


if __name__ == "__main__":
    main()
