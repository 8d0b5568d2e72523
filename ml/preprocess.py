"""Turn an uploaded image into the form MNIST digits have.

MNIST digits are light ink on black, anti-aliased, scaled so the longer side of
the ink fits a 20 px box and placed in 28x28 with the centre of mass at (14, 14).
``prepare`` maps canvas drawings, photos and scans to that form: it composites
transparency, finds the polarity, in a photo finds the sheet of paper and leaves
out the desk around it, flattens uneven lighting and shadows, normalises the
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
from typing import NamedTuple

import numpy as np
from PIL import ExifTags, Image, ImageDraw, ImageOps, UnidentifiedImageError
from scipy import ndimage
from scipy.spatial import ConvexHull, QhullError
from threadpoolctl import threadpool_limits

FORMATS = ("PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP")
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_PIXELS = 40_000_000  # decompression-bomb guard, checked from the header before decoding
MIN_SIDE = 8  # pixels
MAX_ASPECT = 20  # longer side : shorter side
def gettext_noop(message):
    """Marks a message for people: Django's makemessages collects it, and the web translates it when shown
    (the engine itself speaks English and imports no Django)."""
    return message


NOT_AN_IMAGE = gettext_noop("This file is not an image we can read (PNG, JPEG, GIF, BMP, TIFF or WebP).")
DAMAGED = gettext_noop("The image file is damaged or incomplete.")
TOO_LARGE = gettext_noop("The image has too many pixels; the limit is %(megapixels)d megapixels.")
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

# The engine's only BLAS calls are least-squares fits of a few hundred points (_surface). OpenBLAS's threads cost
# more than they save there, and with a worker process per core they fight over the cores: two processes read
# 277 cheque fields/s with them and 694 without (python -m ml.bench --strings, 2 cores).
threadpool_limits(1, user_api="blas")

WORK_SIDE = 1024  # larger images are reduced first; strokes stay several pixels wide
HOT_PIXELS = 4  # fewer pixels than this at a grey level may be sensor noise
FLAT_BORDER = 0.06  # a border spread below this means even lighting, no need to model it
MIN_CONTRAST = 0.12  # weakest ink/background difference that counts as a digit (0-1)
NOISE_FLOOR = 0.25  # ink fainter than this fraction of the strongest stroke is background
SPECK_FRACTION = 0.05  # blobs smaller than this fraction of the largest are dust or noise
LINE_SPAN, LINE_ASPECT = 0.9, 8  # ink across 90% of the image width, 8x wider than high, is a line
SCAN_SIDE = 512  # images up to this size are scans or crops, read against a smooth paper; larger ones are photos,
# unless their paper is printed (PLAIN_PAPER)
PAPER_SIDE = 256  # the sheet and its lighting are found on a copy reduced to about this size
EDGE = 0.1  # change of log level per pixel of that copy, in any colour, that is an edge (paper on desk, ink)
SHEET_OPENING = 0.06  # bits of the desk narrower than this share of the photo's longer side are cut off the sheet
MIN_SHEET = 0.1  # a calm region smaller than this share of the photo is not the sheet
UNEVEN_LIGHT = 0.4  # a scan's paper level (0-1) spanning more is lit unevenly (a security print alone: at most 0.4
# on 99.5 % of ORAND's train split): even_light evens it
MIN_PAPER = 0.05  # calm regions of the sheet smaller than this share of it may be inside a thick stroke
POLARITY_BOX = 0.35  # _dark_ink's neighbourhood, half its side as a share of the scan's shorter side
POLARITY_SIDE = 64  # _dark_ink works on block means of a scan whose shorter side is at least this, of at most 2x it
POLARITY_TAIL = 0.3  # percent of pixels at each end of the departures from it that _dark_ink compares
POLARITY_MARGIN = 0.1  # ... and how much further one end must reach, relatively, to decide; under it the border
# decides (ORAND's train fields lit from one side: at least 0.12; MNIST digits cropped to their strokes on a noisy
# grey: 5 of 400 under it, one the wrong way at -0.05; at 0.05 one of them scaled 4x was still taken wrong)
PLAIN_PAPER = 0.9  # a sheet less calm than this (its paper's share) is printed, a field cut from a scan: read as one
PRINTED = object()  # _flattened_ink's answer for such a sheet
MIN_INK_EXTENT = 3  # pixels; smaller marks are not a digit
BOX, FIELD, CENTRE = 20, 28, 14.0  # MNIST geometry (CENTRE is the mean centre of mass)
STROKE_RANGE = (1.6, 4.0)  # 5th-95th percentile of MNIST stroke widths at the 20 px scale;
STROKE_TARGET = 2.5  # wider or thinner strokes are brought to the MNIST median
HIGH_RES = 4  # stroke width is adjusted on a 4x (80 px) version of the digit


class ImageError(ValueError):
    """An upload that cannot be read as a digit image; ``str()`` is meant for the user, in English.

    ``code`` names the kind for programs: "empty", "too_large" (bytes), "unsupported" (not an
    image format we read), "too_many_pixels", or "invalid" (unusable in another way). ``message`` and
    ``params`` give the sentence before its values are put in, for translation.
    """

    def __init__(self, message, code="invalid", **params):
        super().__init__(message % params if params else message)
        self.code, self.message, self.params = code, message, params


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
        raise ImageError(gettext_noop("The file is empty."), "empty")
    if len(data) > MAX_FILE_BYTES:
        raise ImageError(gettext_noop("The file is larger than %(mb)d MB."), "too_large", mb=MAX_FILE_BYTES // 2**20)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(TOO_LARGE, "too_many_pixels", megapixels=MAX_PIXELS // 1_000_000) from None
    except UnidentifiedImageError:
        raise ImageError(NOT_AN_IMAGE, "unsupported") from None
    except (OSError, ValueError, SyntaxError) as error:
        raise ImageError(NOT_AN_IMAGE, "unsupported") from error

    width, height = image.size
    if width * height > MAX_PIXELS:
        raise ImageError(TOO_LARGE, "too_many_pixels", megapixels=MAX_PIXELS // 1_000_000)
    if min(width, height) < MIN_SIDE:
        raise ImageError(gettext_noop("The image is too small (%(width)dx%(height)d); it needs at least "
                                      "%(side)dx%(side)d pixels."), width=width, height=height, side=MIN_SIDE)
    if max(width, height) > MAX_ASPECT * min(width, height):
        raise ImageError(gettext_noop("The image is too long and thin to hold a digit."))
    try:
        frames = getattr(image, "n_frames", 1)  # a TIFF reads every page's header to count them
    except Exception as error:
        raise ImageError(DAMAGED) from error
    # Phone cameras write JPEGs with a second, preview picture (MPO): the first is the photo.
    if frames > 1 and image.format != "MPO":
        raise ImageError(gettext_noop(
            "Animated or multi-page images are not supported; upload a single picture."))
    image.draft(None, (WORK_SIDE, WORK_SIDE))  # JPEG decodes at 1/2, 1/4 or 1/8 scale; others ignore it
    cost = _decode_bytes(image)
    if cost > MAX_DECODE_BYTES:
        megapixels = MAX_DECODE_BYTES // (cost // (image.width * image.height)) // 1_000_000
        raise ImageError(gettext_noop(
            "The image has too many pixels for its colour depth (%(width)dx%(height)d, %(mode)s); "
            "the limit for such images is %(megapixels)d megapixels."), "too_many_pixels",
            width=width, height=height, mode=image.mode, megapixels=megapixels)
    with LARGE_DECODES if cost > LARGE_DECODE_BYTES else nullcontext():
        try:
            image.load()
            # Read after loading (a PNG would load itself to look for it) and before reducing: a TIFF keeps
            # its orientation in the file, which the reduced copy no longer has.
            orientation = image.getexif().get(ExifTags.Base.Orientation)
            reduced = _reduce(_drop_opaque_alpha(image))
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


def _drop_opaque_alpha(image):
    """An RGBA image that is opaque everywhere (a canvas export: the drawing page paints its canvas white) as
    RGB: the same pixels, without premultiplying for the reduction and compositing in NumPy (half the time a
    drawn number takes to prepare)."""
    if image.mode == "RGBA" and image.getchannel("A").getextrema() == (255, 255):
        return image.convert("RGB")
    return image


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
    return None if found is None else to_mnist(found.ink)


class FoundInk(NamedTuple):
    ink: np.ndarray  # strength in [0, 1] over the box holding the ink
    origin: tuple[int, int]  # the box's (top, left) in the image as reduced by decode_image
    photo: bool  # read as a photo: larger than a scan, and not a field cut from a scan of printed paper
    sheet: bool  # found on a sheet in a photo, its light flattened (not on an even canvas)
    paper: np.ndarray | None  # a scan's paper level (0-1) as fitted over the whole image; None on even paper
    dark_ink: bool  # darker than the paper (found from the image's border and its extreme grey levels)


def ink_map(image: Image.Image, scan=False) -> FoundInk | None:
    """The ink in an image, or None when there is none. Lighting, specks and ruled lines are dealt with, and
    in a photo of a sheet of paper, what lies beyond the sheet. ``scan``: read it as a scan whatever its size."""
    return _ink(_luminance(image), image, scan)


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
            raise ImageError(gettext_noop("The image's colour format is not supported.")) from error
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


def _ink(gray, image=None, scan=False):
    """FoundInk (strength in [0, 1], 0 is background), or None. ``image`` is the decoded image, whose colours
    help to tell the paper from a desk."""
    pixels = np.asarray(gray)
    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    low, paper, high = np.percentile(border, [5, 50, 95])
    # The extreme grey levels that a few pixels share, so that hot pixels do not count.
    counts = np.cumsum(gray.histogram())
    darkest, median, lightest = np.searchsorted(counts, [HOT_PIXELS, counts[-1] / 2, counts[-1] - HOT_PIXELS])
    dark_ink = paper - darkest > lightest - paper

    # Even paper, as on a canvas: an even border of the grey most of the image has. A photo of a sheet on
    # a plain desk has an even border too, but of another grey than the sheet.
    if high - low <= FLAT_BORDER * 255 and abs(median - paper) <= FLAT_BORDER * 255:
        # Ink is a function of the grey level, so a lookup table does the work on 8-bit pixels,
        # and only inside the ink's bounding box.
        levels = np.arange(256, dtype=np.float32)
        contrast = (paper - levels) / max(paper, 1) if dark_ink else (levels - paper) / 255
        peak = contrast[darkest if dark_ink else lightest]
        if peak < MIN_CONTRAST:
            return None
        table = np.clip((contrast / peak - NOISE_FLOOR) / (1 - NOISE_FLOOR), 0, 1)
        left, top, right, bottom = gray.point(((table > 0) * 255).tolist()).getbbox()  # ints: Pillow rounds each
        ink = table[pixels[top:bottom, left:right]]
        width, rim, photo, paper = pixels.shape[1], None, not scan and max(gray.size) > SCAN_SIDE, None
        sheet = False
    else:
        # Larger than a scan: a photo, unless its "sheet" is printed (a security background), as in a field
        # cut from a high-resolution scan, where the print breaks the paper into pieces that are not a sheet.
        found = _flattened_ink(gray, image) if max(gray.size) > SCAN_SIDE and not scan else PRINTED
        photo = sheet = found is not PRINTED
        if photo:
            if found is None:
                return None
            (ink, (top, left), width, rim), paper = found, None
        else:
            dark_ink = _dark_ink(pixels, dark_ink)  # the border's grey misleads where the light falls unevenly
            found = _scan_ink(pixels, dark_ink)
            if found is None:
                return None
            (ink, (top, left), paper), width, rim = found, pixels.shape[1], None
    ink = _drop_lines_and_specks(ink, width, rim)
    if not ink.any():  # it was all a ruled line
        return None
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    return FoundInk(ink[rows[0]: rows[-1] + 1, cols[0]: cols[-1] + 1], (top + int(rows[0]), left + int(cols[0])),
                    photo, sheet, paper, bool(dark_ink))


def even_light(grey, found):
    """A grey scan (float, 0-255) with its paper brought to one level where the light falls unevenly across it
    (a shadow's edge, a lamp to one side): dark ink is divided by the paper's level (ink_map's FoundInk), light
    ink has it taken off. Otherwise the scan itself: a security print's pattern alone moves the fitted level (ORAND's
    train split: by 0.12 for half its fields, 0.33 at the 99th percentile, 0.43 at most), and taking that off too
    misreads some."""
    paper = found.paper
    if paper is None or paper.max() - paper.min() <= UNEVEN_LIGHT:
        return grey
    level = np.median(paper)
    if found.dark_ink:
        return np.clip(grey / np.maximum(paper, 0.05) * level, 0, 255).astype(np.float32)
    return np.clip(grey - 255 * (paper - level), 0, 255).astype(np.float32)


def _normalise_contrast(ink):
    """Contrast (ink high) scaled so that the strongest stroke is 1 and what is fainter than NOISE_FLOOR of it is
    0; None when even the strongest is under MIN_CONTRAST. The peak is that of 2x2 block means, so that single hot
    pixels do not count as ink; an image one pixel wide or high has none (never an upload, which is refused under
    8x8, but prepare takes crops too)."""
    h, w = (side // 2 * 2 for side in ink.shape)
    if not (h and w):
        return None
    peak = ink[:h, :w].reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3)).max()
    if peak < MIN_CONTRAST:
        return None
    return np.clip((ink / peak - NOISE_FLOOR) / (1.0 - NOISE_FLOOR), 0.0, 1.0)


def _dark_ink(pixels, border_says):
    """Whether a scan's ink is darker than its paper, judged where it is written: against the mean grey of a box
    around each pixel (POLARITY_BOX of the shorter side), ink departs further than anything else does, and on the
    ink's side, however the light falls across the page (a lamp to one side turns the border's grey against the
    ink's for 42 of ORAND's 619 train fields; this rule for none, rescanned, blurred, binarised or inverted).
    Where the two sides depart about as far (POLARITY_MARGIN), as in a digit cropped to its strokes, whose ink
    fills the box, the border's grey decides (border_says)."""
    step = max(1, min(pixels.shape) // POLARITY_SIDE)  # block means: strokes still depart on the ink's side
    h, w = pixels.shape[0] // step * step, pixels.shape[1] // step * step
    grey = pixels[:h, :w].reshape(h // step, step, w // step, step).mean(axis=(1, 3), dtype=np.float32)
    size = max(3, int(min(grey.shape) * POLARITY_BOX) * 2 + 1)
    low, high = np.percentile(grey - ndimage.uniform_filter(grey, size, mode="nearest"),
                              [POLARITY_TAIL, 100 - POLARITY_TAIL])
    if abs(-low - high) < POLARITY_MARGIN * (-low + high):
        return border_says
    return bool(-low > high)


def _scan_ink(pixels, dark_ink):
    """Ink of a scan or a field cut from one (contrast to a smooth model of the uneven paper, normalised) cropped
    to the ink, the crop's (top, left), and that model: the paper's level (0-1) over the whole image."""
    lum = pixels.astype(np.float32) / 255.0
    signal = 1.0 - lum if dark_ink else lum
    background = _surface(signal)
    ink = signal - background
    if dark_ink:
        ink /= np.maximum(1.0 - background, 0.05)  # illumination scales dark ink's contrast
    ink = _normalise_contrast(ink)
    if ink is None:
        return None
    top, left = np.flatnonzero(ink.any(axis=1))[0], np.flatnonzero(ink.any(axis=0))[0]
    return _crop_to_ink(ink), (int(top), int(left)), 1.0 - background if dark_ink else background


def _drop_lines_and_specks(ink, image_width, rim=None):
    """Remove ruled lines, form baselines and specks of dust or noise from the ink, and marks that touch
    ``rim`` (the sheet's edge in a photo, boolean like ink): the desk, and the edge itself."""
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
        edge = np.zeros(count + 1, bool)
        if rim is not None:
            edge[np.unique(labels[rim])] = True
            edge[0] = False
        # Specks are small beside the largest mark off the sheet's edge (any mark, if all touch it).
        drop = sizes < SPECK_FRACTION * (sizes if edge[1:].all() else np.where(edge, 0, sizes)).max()
        drop |= edge
        # Lines that are detached, thin and nearly as wide as the image, even if slanted.
        for label, (rows, cols) in enumerate(ndimage.find_objects(labels), start=1):
            height, width = rows.stop - rows.start, cols.stop - cols.start
            drop[label] |= width >= LINE_SPAN * image_width and height * LINE_ASPECT <= width
        if not drop[1:].all():
            ink[drop[labels]] = 0.0
    return ink


def _surface(signal, grid=48):
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


def _flattened_ink(gray, image):
    """Ink of a photo: contrast to the paper's level (lit, shaded or in shadow), normalised, within
    the sheet, cropped to the ink; the crop's (top, left), the sheet's width, and where the crop meets the
    sheet's edge inside the photo (boolean, or None when the sheet is the whole photo). None when there is no
    ink; PRINTED when the sheet's paper is printed, not plain."""
    factor = max(1, -(-max(gray.size) // PAPER_SIDE))
    colour = image is not None and image.mode in ("RGB", "CMYK", "YCbCr")
    small = _reduce(image).reduce(factor).convert("RGB") if colour else gray.reduce(factor)
    sheet, paper = _sheet(np.asarray(small, np.float32).reshape(small.height, small.width, -1) / 255)
    # Under PLAIN_PAPER: ORAND's cheque fields scaled 4x (train split) 97.5 %; the generated photo strings (seed
    # 7) none whole (at least 0.94), 41 % of those larger than a scan once cut to their writing, which read
    # about as well as scans (exact 91.5 %; 92.0 % at 0.85, where 3 % of them are under it).
    if np.count_nonzero(paper) < PLAIN_PAPER * np.count_nonzero(sheet):
        return PRINTED
    unknown = sheet & ~paper  # the ink is here, if anywhere
    if not unknown.any():
        return None
    level = np.asarray(gray.reduce(factor), np.float32) / 255
    background = _background(level, paper)
    # Dark ink when the unknown parts of the sheet are darker than the paper around them, overall.
    contrast = (level - background)[unknown]
    dark_ink = -contrast[contrast < 0].sum() >= contrast[contrast > 0].sum()

    # Back at full size, only over the unknown parts' box (and a reduced pixel around it).
    rows, cols = np.flatnonzero(unknown.any(axis=1)), np.flatnonzero(unknown.any(axis=0))
    top, bottom = max(rows[0] - 1, 0), min(rows[-1] + 2, len(level))
    left, right = max(cols[0] - 1, 0), min(cols[-1] + 2, level.shape[1])
    height, width = min(gray.height, bottom * factor) - top * factor, min(gray.width, right * factor) - left * factor

    def full(array, method):
        """A reduced array's part over the box, at full size."""
        part = Image.fromarray(array[top:bottom, left:right])
        return np.asarray(part.resize(((right - left) * factor, (bottom - top) * factor), method))[:height, :width]

    lum = np.asarray(gray.crop((left * factor, top * factor, left * factor + width, top * factor + height)),
                     np.float32) / 255
    background = full(background, Image.Resampling.BILINEAR)
    ink = background - lum if dark_ink else lum - background
    if dark_ink:
        ink /= np.maximum(background, 0.05)  # illumination scales dark ink's contrast
    ink[~full(sheet, Image.Resampling.NEAREST)] = 0.0
    ink = _normalise_contrast(ink)
    if ink is None:
        return None
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    crop = np.s_[rows[0]: rows[-1] + 1, cols[0]: cols[-1] + 1]
    rim = None
    if not sheet.all():
        rim = full(sheet & ~ndimage.binary_erosion(sheet, border_value=1), Image.Resampling.NEAREST)[crop]
    sheet_cols = np.flatnonzero(sheet.any(axis=0))
    return (ink[crop], (int(top * factor + rows[0]), int(left * factor + cols[0])),
            (sheet_cols[-1] + 1 - sheet_cols[0]) * factor, rim)


def _sheet(rgb):
    """Where the sheet of paper is in a reduced photo, (h, w, channels) in [0, 1], and which parts of it
    show the paper itself: calm, large regions, not ink. Both boolean (h, w).

    Light and shadow multiply the level, so in logarithms they add a smooth term: the sheet is the region
    where no colour changes faster than EDGE per pixel, which soft shadows and falloff do not, while the
    sheet's edge against a desk and the ink's strokes do. The largest bright such region is the sheet;
    a sheet is convex, so its convex hull takes the strokes and the shadows back in and leaves the desk out.
    """
    log = ndimage.gaussian_filter(np.log(rgb + 0.02), (1, 1, 0))
    gy, gx = np.gradient(log, axis=(0, 1)) if min(log.shape[:2]) > 1 else (np.zeros_like(log),) * 2
    calm = (gy * gy + gx * gx).max(axis=2) < EDGE * EDGE
    regions, count = ndimage.label(calm)
    everywhere = np.ones(calm.shape, bool)
    if not count:
        return everywhere, calm
    sizes = np.bincount(regions.ravel())
    largest = 1 + int(np.argmax(np.bincount(regions.ravel(), rgb.mean(axis=2).ravel())[1:]))
    main = regions == largest
    filled = ndimage.binary_fill_holes(main)
    sheet = everywhere
    if MIN_SHEET * calm.size <= sizes[largest] < calm.size:
        # Less the bits of desk alike enough to join it across its edge (a pale key beside the sheet): an
        # opening by a disc removes what is narrower than the disc.
        radius = SHEET_OPENING * max(calm.shape)
        core = ndimage.distance_transform_edt(filled) > radius
        region = ndimage.distance_transform_edt(~core) <= radius if core.any() else filled
        points = np.argwhere(region & ~ndimage.binary_erosion(region))  # its outline has the same hull
        try:
            corners = points[ConvexHull(points).vertices]
        except QhullError:  # all in a line
            corners = None
        if corners is not None:
            hull = Image.new("1", calm.shape[::-1])
            ImageDraw.Draw(hull).polygon([(x, y) for y, x in corners], fill=1)
            # One pixel in from the sheet's edge, where the desk blurs into it; not at the photo's edge.
            sheet = ndimage.binary_erosion(np.asarray(hull), border_value=1)
            if np.count_nonzero(sheet) < MIN_SHEET * calm.size:  # what was left after the opening: a stroke's
                sheet = everywhere  # loop in a printed field, say, not a sheet (its writing would be lost)
    # Paper: the main region, and other large calm ones (beyond a shadow's sharper edge), but not those
    # enclosed by the main region, which are the insides of thick strokes or of loops.
    big = sizes >= MIN_PAPER * np.count_nonzero(sheet)
    big[0] = False
    return sheet, sheet & (main | (big[regions] & ~filled))


def _background(level, paper):
    """The paper's level everywhere: the (smoothed) level where the paper shows, and elsewhere, under
    the ink, the mean of the paper around, weighted by nearness (normalised convolution)."""
    smooth = ndimage.gaussian_filter(level, 1)
    if not paper.any():
        return np.full_like(level, np.median(level))
    # Wide enough to reach from the middle of the widest unknown part to the paper; computed on a copy
    # reduced so that the blur is about 4 pixels wide, as a wide blur costs in proportion to its width.
    sigma = max(2.0, float(ndimage.distance_transform_edt(~paper).max()))
    step = max(1, int(sigma // 4))
    size = (max(1, level.shape[1] // step), max(1, level.shape[0] // step))

    def blurred(array):
        coarse = Image.fromarray(array.astype(np.float32)).resize(size, Image.Resampling.BOX)
        coarse = ndimage.gaussian_filter(np.asarray(coarse), sigma / step)
        return np.asarray(Image.fromarray(coarse).resize(level.shape[::-1], Image.Resampling.BILINEAR))

    around = blurred(np.where(paper, smooth, 0)) / np.maximum(blurred(paper), 1e-6)
    return np.where(paper, smooth, around).astype(np.float32)


def _crop_to_ink(ink):
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    return ink[rows[0]: rows[-1] + 1, cols[0]: cols[-1] + 1]


def _fit_box(crop):
    """Scale the ink crop so its longer side is 20 px, with an MNIST-like stroke width."""
    high = _resize(crop, BOX * HIGH_RES / max(crop.shape))
    width = _stroke_width(high) / HIGH_RES
    if not STROKE_RANGE[0] <= width <= STROKE_RANGE[1]:
        radius = round(abs(STROKE_TARGET - width) * HIGH_RES / 2)
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
