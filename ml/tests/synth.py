"""Synthetic test images: digits drawn with thick strokes, as a canvas or a photo gives them."""
import io
import struct
import zlib

import numpy as np
from PIL import Image, ImageDraw

# Strokes in a unit box (x right, y down): simple shapes anyone would draw.
STROKES = {
    0: "ellipse",
    1: [[(0.3, 0.25), (0.55, 0.0), (0.55, 1.0)]],
    4: [[(0.65, 0.0), (0.0, 0.68), (0.95, 0.68)], [(0.68, 0.3), (0.68, 1.0)]],
    7: [[(0.0, 0.0), (1.0, 0.0), (0.35, 1.0)]],
}


def draw_digit(digit, size=(280, 280), box=(60, 40, 140, 200), width=18, ink=0, paper=255, mode="L"):
    """Draw ``digit`` inside ``box`` (left, top, width, height) on a canvas of ``size``."""
    image = Image.new(mode, size, paper)
    draw = ImageDraw.Draw(image)
    left, top, w, h = box
    if STROKES[digit] == "ellipse":
        draw.ellipse((left, top, left + w, top + h), outline=ink, width=width)
    for stroke in [] if STROKES[digit] == "ellipse" else STROKES[digit]:
        draw.line([(left + x * w, top + y * h) for x, y in stroke], fill=ink, width=width, joint="curve")
    return image


def photo(image, paper=(0.45, 0.85), ink_level=0.2, noise=6.0, seed=0):
    """Turn a black-on-white drawing into a grey photo: uneven light, grey ink, sensor noise."""
    rng = np.random.default_rng(seed)
    ink = 1.0 - np.asarray(image.convert("L"), np.float32) / 255.0
    h, w = ink.shape
    light = np.linspace(*paper, w)[None, :] * np.linspace(1.0, 0.85, h)[:, None]
    grey = light * (1 - ink) + light * ink_level * ink
    grey = grey * 255 + rng.normal(0, noise, grey.shape)
    return Image.fromarray(np.clip(grey, 0, 255).astype(np.uint8))


def encode(image, format="PNG", **params):
    buffer = io.BytesIO()
    image.save(buffer, format=format, **params)
    return buffer.getvalue()


def _png_chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def flat_png(width, height, bit_depth=8, colour_type=0):
    """A PNG of one flat colour (zero bytes), written row by row: gigabytes of pixels in a few hundred KB
    without holding them. colour_type 0 is grey, 2 RGB, 6 RGBA (PNG's own numbering)."""
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[colour_type]
    row = bytes(1 + (width * channels * bit_depth + 7) // 8)  # filter byte, then the samples
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    chunks = _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", data) + _png_chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks


def bar_mnist(path, count=20):
    """A Keras-layout MNIST .npz at ``path``: ``count`` 'digits', bars of a width given by their class, as its train
    and its test set. Enough to draw lines from, and for a short training run to fit."""
    images = np.zeros((count, 28, 28), np.uint8)
    labels = np.arange(count) % 10
    for image, label in zip(images, labels):
        image[4:24, 10:12 + label] = 255
    np.savez(path, x_train=images, y_train=labels, x_test=images, y_test=labels)
    return path
