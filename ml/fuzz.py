"""Fuzz the engine's entry point for a fixed time: generated and damaged images through Recognizer.read.

    python -m ml.fuzz --seconds 300 [--out var/fuzz]

Hypothesis generates the inputs: images of every mode we decode, with flat, ruled, graded, noisy or
dotted content, saved in every format we accept, then often damaged (bytes flipped, cut, inserted,
repeated), and now and then bytes that are no image at all. Every input must come back as a Reading or
an ImageError, which is what the worker stores; anything else is a crash, whose input is saved. The same
strategies drive the property tests in ml/tests/test_properties.py.
"""
import argparse
import hashlib
import io
import sys
import time
import traceback
import warnings
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from PIL import Image

from ml.preprocess import FORMATS, ImageError

MODES = ("1", "L", "P", "LA", "PA", "RGB", "RGBA", "CMYK", "I;16", "I", "F")
SIDES = st.integers(8, 64)
LEVELS = st.floats(0, 1)


@st.composite
def patterns(draw, height=None, width=None):
    """A float64 (height, width) array in [0, 1]: a flat background with rows, columns, boxes,
    gradients, noise or single pixels on it, as ruled forms, scans and drawings have."""
    height, width = height or draw(SIDES), width or draw(SIDES)
    pixels = np.full((height, width), draw(LEVELS))
    kinds = st.sampled_from(["row", "column", "box", "gradient", "noise", "dot"])
    for kind in draw(st.lists(kinds, max_size=4)):
        level = draw(LEVELS)
        if kind == "row":
            pixels[draw(st.integers(0, height - 1))] = level
        elif kind == "column":
            pixels[:, draw(st.integers(0, width - 1))] = level
        elif kind == "box":
            top, left = draw(st.integers(0, height - 1)), draw(st.integers(0, width - 1))
            pixels[top: draw(st.integers(top + 1, height)), left: draw(st.integers(left + 1, width))] = level
        elif kind == "gradient":
            ramp = np.linspace(0, level, width if draw(st.booleans()) else height)
            pixels = np.clip(pixels + (ramp if len(ramp) == width else ramp[:, None]), 0, 1)
        elif kind == "noise":
            rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
            pixels = np.clip(pixels + rng.normal(0, level, pixels.shape), 0, 1)
        else:
            pixels[draw(st.integers(0, height - 1)), draw(st.integers(0, width - 1))] = level
    return pixels


@st.composite
def images(draw, modes=MODES):
    """A Pillow image of one of ``modes`` whose content is a pattern, in the value range the mode allows."""
    mode = draw(st.sampled_from(modes))
    pixels = draw(patterns())
    grey = Image.fromarray(np.round(pixels * 255).astype(np.uint8))
    if mode == "1":
        dither = draw(st.sampled_from([Image.Dither.NONE, Image.Dither.FLOYDSTEINBERG]))
        return grey.convert("1", dither=dither)
    if mode == "I;16":
        top = draw(st.sampled_from([1, 255, 4095, 65535]))
        return Image.fromarray(np.round(pixels * top).astype(np.uint16))
    if mode == "I":
        scale, offset = draw(st.sampled_from([1, 255, 65535, 2**31 - 1])), draw(st.sampled_from([0, -1000]))
        return Image.fromarray((pixels * scale + offset).astype(np.int32))
    if mode == "F":
        values = (pixels * draw(st.sampled_from([1.0, 255.0, 65535.0, 1e30]))).astype(np.float32)
        if draw(st.booleans()):
            at = draw(st.integers(0, values.size - 1))
            values.flat[at] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
        return Image.fromarray(values)
    tint = draw(st.tuples(LEVELS, LEVELS, LEVELS))
    rgb = Image.fromarray(np.round(pixels[..., None] * np.array(tint) * 255).astype(np.uint8))
    alpha = Image.fromarray(np.round(draw(patterns(*pixels.shape)) * 255).astype(np.uint8))
    if mode == "RGB":
        return rgb
    if mode == "CMYK":
        return rgb.convert("CMYK")
    if mode in ("RGBA", "LA"):
        image = (rgb if mode == "RGBA" else grey).convert(mode)
        image.putalpha(alpha)
        return image
    palette = rgb.convert("P", palette=Image.Palette.ADAPTIVE, colors=draw(st.integers(2, 256)))
    if mode == "PA":
        return palette.convert("PA")
    if draw(st.booleans()):
        palette.info["transparency"] = 0
    return palette


@st.composite
def encoded_images(draw):
    """Bytes of a generated image in a format we accept (TIFF when the one drawn cannot hold the mode)."""
    image = draw(images())
    for image_format in (draw(st.sampled_from(FORMATS)), "TIFF"):
        buffer = io.BytesIO()
        try:
            image.save(buffer, format=image_format)
            return buffer.getvalue()
        except (OSError, ValueError, KeyError, TypeError):
            continue
    raise AssertionError(f"TIFF cannot hold a {image.mode} image")  # every mode above can be written as TIFF


@st.composite
def damaged(draw, data):
    """``data`` with a few bytes flipped, cut, inserted or repeated, as a bad transfer or tool leaves it."""
    data = bytearray(data)
    for kind in draw(st.lists(st.sampled_from(["flip", "cut", "insert", "repeat"]), min_size=1, max_size=4)):
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "cut":
            del data[at:]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        else:
            data[at:at] = data[at: at + draw(st.integers(1, 64))]
    return bytes(data)


def uploads():
    """What users might send: sound images, damaged images and bytes that are no image."""
    return st.one_of(encoded_images(), encoded_images().flatmap(damaged), st.binary(max_size=512))


class TimeUp(Exception):
    pass


def fuzz(seconds, out, report_every=10.0, stream=sys.stdout):
    """Read generated uploads until ``seconds`` have passed; save each crashing input in ``out``.

    Returns the counts: inputs, passed (read as a digit or blank), refused (ImageError) and crashes.
    """
    from ml.inference import get_recognizer

    recognizer = get_recognizer()
    counts = {"inputs": 0, "passed": 0, "refused": 0, "crashes": 0}
    start = last_report = time.monotonic()

    def progress():
        elapsed = time.monotonic() - start
        print(f"{elapsed:6.1f} s: {counts['inputs']:,} inputs, {counts['passed']:,} passed the check, "
              f"{counts['refused']:,} refused, {counts['crashes']} crashes", file=stream, flush=True)

    # Only generation: a crash is recorded and the run goes on, so Hypothesis never sees a failure to shrink.
    @settings(max_examples=10**9, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(uploads())
    def read(data):
        nonlocal last_report
        now = time.monotonic()
        if now - start >= seconds:
            raise TimeUp
        if now - last_report >= report_every:
            last_report = now
            progress()
        counts["inputs"] += 1
        try:
            [result] = recognizer.read([data])
        except Exception:  # anything but a Reading or an ImageError is the bug this run looks for
            counts["crashes"] += 1
            out.mkdir(parents=True, exist_ok=True)
            path = out / f"crash-{hashlib.sha1(data).hexdigest()[:16]}"
            path.with_suffix(".bin").write_bytes(data)
            path.with_suffix(".txt").write_text(traceback.format_exc())
            print(f"crash, input saved in {path}.bin:\n{traceback.format_exc()}", file=stream, flush=True)
            return
        counts["refused" if isinstance(result, ImageError) else "passed"] += 1

    try:
        with warnings.catch_warnings():  # Pillow warns about each damaged file it reads anyway
            warnings.simplefilter("ignore")
            read()
    except TimeUp:
        pass
    progress()
    return counts


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60, help="how long to run")
    parser.add_argument("--out", type=Path, default=Path("var/fuzz"), help="where crashing inputs are saved")
    args = parser.parse_args(argv)
    counts = fuzz(args.seconds, args.out)
    return 1 if counts["crashes"] else 0


if __name__ == "__main__":
    sys.exit(main())
