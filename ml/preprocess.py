"""Turn an uploaded image into the form MNIST digits have.

MNIST digits are light ink on black, anti-aliased, scaled so the longer side of
the ink fits a 20 px box and placed in 28x28 with the centre of mass at (14, 14).
``prepare`` maps canvas drawings, photos and scans to that form: it composites
transparency, finds the polarity, flattens uneven lighting, normalises the
contrast, removes faint noise and specks, crops to the ink, evens out the stroke
width and centres by mass. ``decode_image`` turns bytes into a Pillow image or
raises ``ImageError`` with a sentence a person can read.
"""
import ctypes
import io
import os
import threading
import warnings
from contextlib import nullcontext

import numpy as np
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError
from scipy import ndimage

FORMATS = ("PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP")
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_PIXELS = 40_000_000  # decompression-bomb guard, checked from the header before decoding
MIN_SIDE = 8  # pixels
MAX_ASPECT = 20  # longer side : shorter side
NOT_AN_IMAGE = "This file is not an image we can read (PNG, JPEG, GIF, BMP, TIFF or WebP)."
DAMAGED = "The image file is damaged or incomplete."
TOO_LARGE = f"The image has too many pixels; the limit is {MAX_PIXELS // 1_000_000} megapixels."
# Memory one decode may take: 96 MB allows 40 megapixels of grey, 1-bit, palette or 16-bit grey, 25 of colour
# or 32-bit grey, 12 with transparency.
MAX_DECODE_BYTES = 96 * 2**20
# Decodes above this size wait for one of DIGITS_LARGE_DECODES places per process, so that a burst of
# large uploads keeps memory bounded; smaller ones, the usual drawings and scans, never wait.
LARGE_DECODE_BYTES = 4 * 2**20
LARGE_DECODES = threading.BoundedSemaphore(int(os.environ.get("DIGITS_LARGE_DECODES", "1")))


def _give_large_blocks_back():
    """Have glibc map every allocation over 1 MB on its own, so that freeing it returns it to the system.

    By default glibc raises this threshold after each large free and then keeps freed memory in per-thread
    arenas: a gunicorn worker of 32 threads grew to 757 MB after 16 decodes of a 40-megapixel 16-bit PNG
    and kept it; with a fixed threshold its peak was 231 MB and it went back to 140 MB.
    """
    try:
        ctypes.CDLL(None).mallopt(-3, 2**20)  # M_MMAP_THRESHOLD in glibc's malloc.h
    except (OSError, AttributeError):  # not glibc: nothing to tune
        pass


_give_large_blocks_back()

WORK_SIDE = 1024  # larger images are reduced first; strokes stay several pixels wide
HOT_PIXELS = 4  # fewer pixels than this at a grey level may be sensor noise
FLAT_BORDER = 0.06  # a border spread below this means even lighting, no need to model it
MIN_CONTRAST = 0.12  # weakest ink/background difference that counts as a digit (0-1)
NOISE_FLOOR = 0.25  # ink fainter than this fraction of the strongest stroke is background
SPECK_FRACTION = 0.05  # blobs smaller than this fraction of the largest are dust or noise
LINE_SPAN, LINE_ASPECT = 0.9, 8  # ink across 90% of the image width, 8x wider than high, is a line
MIN_INK_EXTENT = 3  # pixels; smaller marks are not a digit
BOX, FIELD, CENTRE = 20, 28, 14.0  # MNIST geometry (CENTRE is the mean centre of mass)
STROKE_RANGE = (1.6, 4.0)  # 5th-95th percentile of MNIST stroke widths at the 20 px scale;
STROKE_TARGET = 2.5  # wider or thinner strokes are brought to the MNIST median
HIGH_RES = 4  # stroke width is adjusted on a 4x (80 px) version of the digit


class ImageError(ValueError):
    """An upload that cannot be read as a digit image; ``str()`` is meant for the user.

    ``code`` names the kind for programs: "empty", "too_large" (bytes), "unsupported" (not an
    image format we read), "too_many_pixels", or "invalid" (unusable in another way).
    """

    def __init__(self, message, code="invalid"):
        super().__init__(message)
        self.code = code


def decode_image(data: bytes) -> Image.Image:
    """Decode image bytes into an upright, loaded Pillow image with its longer side at most WORK_SIDE,
    or raise ImageError."""
    return _decode(data)[0]


def decode_image_and_size(data: bytes) -> tuple[Image.Image, tuple[int, int]]:
    """decode_image's image and the full upright (width, height), to map positions back to the file's pixels."""
    image, _, size = _decode(data)
    return image, size


def inspect_image(data: bytes) -> tuple[str, int, int]:
    """Check that bytes make a usable image, decoding all of it at reduced size so that damage shows, and
    return its format and its width and height as shown (EXIF rotation applied); or raise ImageError."""
    _, image_format, (width, height) = _decode(data)
    return image_format, width, height


def _decode(data):
    """decode_image's image, with the format and the full upright size from the header."""
    if not data:
        raise ImageError("The file is empty.", "empty")
    if len(data) > MAX_FILE_BYTES:
        raise ImageError(f"The file is larger than {MAX_FILE_BYTES // 2**20} MB.", "too_large")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(TOO_LARGE, "too_many_pixels") from None
    except UnidentifiedImageError:
        raise ImageError(NOT_AN_IMAGE, "unsupported") from None
    except (OSError, ValueError, SyntaxError) as error:
        raise ImageError(NOT_AN_IMAGE, "unsupported") from error

    width, height = image.size
    if width * height > MAX_PIXELS:
        raise ImageError(TOO_LARGE, "too_many_pixels")
    if min(width, height) < MIN_SIDE:
        raise ImageError(f"The image is too small ({width}x{height}); it needs at least "
                         f"{MIN_SIDE}x{MIN_SIDE} pixels.")
    if max(width, height) > MAX_ASPECT * min(width, height):
        raise ImageError("The image is too long and thin to hold a digit.")
    try:
        frames = getattr(image, "n_frames", 1)  # a TIFF reads every page's header to count them
    except Exception as error:
        raise ImageError(DAMAGED) from error
    # Phone cameras write JPEGs with a second, preview picture (MPO): the first is the photo.
    if frames > 1 and image.format != "MPO":
        raise ImageError("Animated or multi-page images are not supported; upload a single picture.")
    image.draft(None, (WORK_SIDE, WORK_SIDE))  # JPEG decodes at 1/2, 1/4 or 1/8 scale; others ignore it
    cost = _decode_bytes(image)
    if cost > MAX_DECODE_BYTES:
        megapixels = MAX_DECODE_BYTES // (cost // (image.width * image.height)) // 1_000_000
        raise ImageError(
            f"The image has too many pixels for its colour depth ({width}x{height}, {image.mode}); "
            f"the limit for such images is {megapixels} megapixels.", "too_many_pixels")
    with LARGE_DECODES if cost > LARGE_DECODE_BYTES else nullcontext():
        try:
            image.load()
            # Read after loading (a PNG would load itself to look for it) and before reducing: a TIFF keeps
            # its orientation in the file, which the reduced copy no longer has.
            orientation = image.getexif().get(ExifTags.Base.Orientation)
            reduced = _reduce(image)
            if reduced is not image and orientation:
                reduced.getexif()[ExifTags.Base.Orientation] = orientation
            ImageOps.exif_transpose(reduced, in_place=True)
        except Exception as error:  # Pillow's decoders signal damaged data with many exception types
            raise ImageError(DAMAGED) from error
        image_format = image.format
        del image  # before another large decode may start
    quarter_turn = orientation in (5, 6, 7, 8)
    return reduced, image_format, (height, width) if quarter_turn else (width, height)


def _decode_bytes(image):
    """Memory that decoding the opened image and reducing it take (see _reduce). Pillow holds 1, 2 or 4
    bytes a pixel; 1-bit and palette images are converted before reducing, and transparent ones are
    premultiplied by their alpha, a second copy."""
    if image.mode in ("P", "PA"):
        per_pixel = 1 + 8 if image.has_transparency_data else 1 + 1
    else:
        per_pixel = {"1": 2, "L": 1, "LA": 8, "La": 8, "RGBA": 8, "RGBa": 8}.get(
            image.mode, 2 if image.mode.startswith("I;16") else 4)
    return image.width * image.height * per_pixel


def _reduce(image):
    """The image with its longer side at most WORK_SIDE (BOX averaging), or the image itself if it fits."""
    if max(image.size) <= WORK_SIDE:
        return image
    if image.mode in ("1", "P", "PA"):  # Pillow resizes these by picking pixels, which loses thin strokes
        image = image.convert("RGBA" if image.has_transparency_data else "L")
    return ImageOps.contain(image, (WORK_SIDE, WORK_SIDE), Image.Resampling.BOX)


def prepare(image: Image.Image) -> np.ndarray | None:
    """Return the digit as float32 (28, 28) in [0, 1], ink high, or None if there is no digit."""
    found = ink_map(image)
    return None if found is None else to_mnist(found[0])


def ink_map(image: Image.Image) -> tuple[np.ndarray, tuple[int, int]] | None:
    """Ink strength in [0, 1] over the box holding the ink, and that box's (top, left) in the image as
    reduced by decode_image; None when there is no ink. Lighting, specks and ruled lines are dealt with."""
    return _ink(_luminance(image))


def to_mnist(ink: np.ndarray) -> np.ndarray | None:
    """The ink of one digit (any size, ink high) in MNIST form, float32 (28, 28); None if too small."""
    if not ink.any():
        return None
    crop = _crop_to_ink(ink)
    if max(crop.shape) < MIN_INK_EXTENT:
        return None
    digit = _fit_box(crop)
    field = np.zeros((FIELD, FIELD), np.float32)
    top, left = (FIELD - np.array(digit.shape)) // 2
    field[top: top + digit.shape[0], left: left + digit.shape[1]] = digit
    shift = np.round(CENTRE - np.array(ndimage.center_of_mass(field)))
    return ndimage.shift(field, shift, order=0)


def _luminance(image):
    """The image as 8-bit grey, transparency composited, longer side at most WORK_SIDE."""
    image = _reduce(image)  # first, so that the conversions below work on at most a megapixel
    if image.mode in ("I", "F") or image.mode.startswith("I;"):
        # Pillow's convert("L") clips 16- and 32-bit values instead of scaling them.
        # NaN and infinities in a float image carry no grey level; they count as black.
        values = np.nan_to_num(np.asarray(image, dtype=np.float32), nan=0.0, posinf=0.0, neginf=0.0)
        brightest = values.max()
        top = 1.0 if brightest <= 1 else 255.0 if brightest <= 255 else 65535.0
        image = Image.fromarray(np.clip(values * (255.0 / top), 0, 255).astype(np.uint8))
    elif image.has_transparency_data:
        image = _composite(image.convert("RGBA"))
    else:
        try:
            image = image.convert("L")
        except ValueError as error:  # e.g. a Lab or multi-channel TIFF
            raise ImageError("The image's colour format is not supported.") from error
    return image


def _composite(image):
    """Put an RGBA drawing on paper that contrasts with it: white behind dark strokes
    (the usual canvas export), black behind light ones."""
    rgba = np.asarray(image, dtype=np.float32) / 255.0
    lum = rgba[..., :3] @ np.array([0.299, 0.587, 0.114], np.float32)  # as convert("L")
    alpha = rgba[..., 3]
    if alpha.max() > 0:
        paper = 1.0 if np.average(lum, weights=alpha) < 0.5 else 0.0
        lum = alpha * lum + (1 - alpha) * paper
    return Image.fromarray(np.round(lum * 255).astype(np.uint8))


def _ink(gray):
    """Ink strength in [0, 1] (0 is background) over the box holding the ink and the box's (top, left),
    or None."""
    pixels = np.asarray(gray)
    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    low, paper, high = np.percentile(border, [5, 50, 95])
    # The extreme grey levels that a few pixels share, so that hot pixels do not count.
    counts = np.cumsum(gray.histogram())
    darkest, lightest = np.searchsorted(counts, [HOT_PIXELS, counts[-1] - HOT_PIXELS])
    dark_ink = paper - darkest > lightest - paper

    if high - low <= FLAT_BORDER * 255:
        # Even paper, as on a canvas: ink is a function of the grey level, so a lookup
        # table does the work on 8-bit pixels, and only inside the ink's bounding box.
        levels = np.arange(256, dtype=np.float32)
        contrast = (paper - levels) / max(paper, 1) if dark_ink else (levels - paper) / 255
        peak = contrast[darkest if dark_ink else lightest]
        if peak < MIN_CONTRAST:
            return None
        table = np.clip((contrast / peak - NOISE_FLOOR) / (1 - NOISE_FLOOR), 0, 1)
        left, top, right, bottom = gray.point(((table > 0) * 255).tolist()).getbbox()  # ints: Pillow rounds each
        ink = table[pixels[top:bottom, left:right]]
    else:
        found = _flattened_ink(pixels, dark_ink)
        if found is None:
            return None
        ink, (top, left) = found
    return _drop_lines_and_specks(ink, pixels.shape[1]), (top, left)


def _flattened_ink(pixels, dark_ink):
    """Ink of a photo or scan (contrast to a model of the uneven paper, normalised) cropped to the ink,
    and the crop's (top, left)."""
    lum = pixels.astype(np.float32) / 255.0
    signal = 1.0 - lum if dark_ink else lum
    background = _background(signal)
    ink = signal - background
    if dark_ink:
        ink /= np.maximum(1.0 - background, 0.05)  # illumination scales dark ink's contrast
    # Peak of 2x2 block means, so that single hot pixels do not count as ink.
    h, w = (side // 2 * 2 for side in ink.shape)
    peak = ink[:h, :w].reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3)).max()
    if peak < MIN_CONTRAST:
        return None
    ink = np.clip((ink / peak - NOISE_FLOOR) / (1.0 - NOISE_FLOOR), 0.0, 1.0)
    top, left = np.flatnonzero(ink.any(axis=1))[0], np.flatnonzero(ink.any(axis=0))[0]
    return _crop_to_ink(ink), (int(top), int(left))


def _drop_lines_and_specks(ink, image_width):
    """Remove ruled lines, form baselines and specks of dust or noise from the ink."""
    if ink.shape[1] >= LINE_SPAN * image_width:
        # Rows inked across the image are a ruled line; where a stroke crosses it, the
        # stroke continues, so bridge the line with what lies both above and below it.
        ruled, _ = ndimage.label((ink > 0).mean(axis=1) >= LINE_SPAN)
        for (rows,) in ndimage.find_objects(ruled):
            if (rows.stop - rows.start) * LINE_ASPECT <= image_width:
                above = ink[rows.start - 1] if rows.start > 0 else 0.0
                below = ink[rows.stop] if rows.stop < len(ink) else 0.0
                ink[rows] = np.minimum(above, below)

    labels, count = ndimage.label(ink > 0, structure=np.ones((3, 3)))
    if count > 1:
        sizes = np.bincount(labels.ravel())
        sizes[0] = 0
        drop = sizes < SPECK_FRACTION * sizes.max()
        # Lines that are detached, thin and nearly as wide as the image, even if slanted.
        for label, (rows, cols) in enumerate(ndimage.find_objects(labels), start=1):
            height, width = rows.stop - rows.start, cols.stop - cols.start
            drop[label] |= width >= LINE_SPAN * image_width and height * LINE_ASPECT <= width
        if not drop[1:].all():
            ink[drop[labels]] = 0.0
    return ink


def _background(signal, grid=48):
    """Smooth paper level under the ink: a quadratic surface fitted to background pixels.

    A quadratic follows the light falloff of a phone photo or scan, and fitting it only
    to pixels away from the ink keeps thick strokes from being mistaken for paper.
    """
    scale = np.float32(max(signal.shape))
    step = max(1, max(signal.shape) // grid)
    sample = signal[::step, ::step]
    ys, xs = np.mgrid[0: signal.shape[0]: step, 0: signal.shape[1]: step] / scale
    terms = np.stack(np.broadcast_arrays(*_quadratic(ys, xs)), axis=-1)
    level = np.zeros_like(sample)
    for _ in range(2):  # refit once, after the first fit has found the uneven paper
        residual = sample - level
        # At or below the midpoint, so that an even image keeps all its pixels as paper.
        paper = residual <= (np.median(residual) + residual.max()) / 2
        # Least squares, not the normal equations: paper on a single row or column leaves the quadratic
        # undetermined, and lstsq then takes the smallest solution instead of failing on a singular matrix.
        coeffs = np.linalg.lstsq(terms[paper], sample[paper], rcond=None)[0]
        level = terms @ coeffs
    ys, xs = (axis / scale for axis in np.ogrid[: signal.shape[0], : signal.shape[1]])
    return sum(np.float32(c) * term for c, term in zip(coeffs, _quadratic(ys, xs)))


def _quadratic(ys, xs):
    return np.float32(1.0), xs, ys, xs * xs, xs * ys, ys * ys


def _crop_to_ink(ink):
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    return ink[rows[0]: rows[-1] + 1, cols[0]: cols[-1] + 1]


def _fit_box(crop):
    """Scale the ink crop so its longer side is 20 px, with an MNIST-like stroke width."""
    high = _resize(crop, BOX * HIGH_RES / max(crop.shape))
    width = _stroke_width(high) / HIGH_RES
    if not STROKE_RANGE[0] <= width <= STROKE_RANGE[1]:
        radius = int(round(abs(STROKE_TARGET - width) * HIGH_RES / 2))
        morph = ndimage.grey_dilation if width < STROKE_RANGE[0] else ndimage.grey_erosion
        # A square window is separable, hence fast; the padding leaves room to grow.
        adjusted = morph(np.pad(high, radius), size=2 * radius + 1)
        if adjusted.any():
            high = _crop_to_ink(adjusted)
    digit = _resize(high, BOX / max(high.shape))
    return digit / max(digit.max(), 1e-6)  # MNIST strokes reach full intensity


def _resize(array, scale):
    height, width = array.shape
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    # BOX averaging when shrinking is the anti-aliasing MNIST's grey levels come from.
    method = Image.Resampling.BOX if scale < 1 else Image.Resampling.BILINEAR
    return np.asarray(Image.fromarray(array.astype(np.float32)).resize(size, method))


def _stroke_width(ink):
    """Mean stroke width in pixels: twice the ink area over its outline length."""
    mask = ink > 0.5
    outline = np.count_nonzero(mask & ~ndimage.binary_erosion(mask))
    return 2.0 * np.count_nonzero(mask) / max(outline, 1)
