"""Preprocessing: any upload becomes an MNIST-form digit, or a clear 'no digit' / ImageError."""
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter
from scipy import ndimage

from ml.preprocess import MAX_PIXELS, ImageError, decode_image, inspect_image, prepare
from ml.tests.synth import draw_digit, encode, photo


def read(data):
    return prepare(decode_image(data))


def extent(digit):
    """Height and width of the ink's bounding box."""
    rows, cols = np.nonzero(digit > 0.05)
    return np.ptp(rows) + 1, np.ptp(cols) + 1


@pytest.fixture(scope="module")
def four():
    """The reference: a thick-stroke 4 on a white 280x280 canvas, prepared."""
    return read(encode(draw_digit(4)))


def assert_same(digit, reference, tolerance=0.03):
    assert digit is not None
    assert np.abs(digit - reference).mean() < tolerance


def test_output_is_mnist_form(four):
    assert four.shape == (28, 28) and four.dtype == np.float32
    assert four.min() == 0.0 and four.max() == pytest.approx(1.0)
    assert max(extent(four)) == 20
    assert np.allclose(ndimage.center_of_mass(four), (14, 14), atol=0.6)
    assert four[:3].sum() == four[:, :3].sum() == 0  # background is black, margins empty


@pytest.mark.parametrize("box", [(5, 5, 60, 90), (500, 300, 90, 150), (200, 20, 300, 360)])
def test_centres_a_digit_anywhere_on_a_large_canvas(box):
    digit = read(encode(draw_digit(7, size=(800, 500), box=box, width=14)))
    assert max(extent(digit)) == 20
    assert np.allclose(ndimage.center_of_mass(digit), (14, 14), atol=0.6)


def test_keeps_the_aspect_ratio():
    one = read(encode(draw_digit(1, box=(100, 20, 50, 240), width=16)))
    height, width = extent(one)
    assert height == 20 and 2 <= width <= 6
    zero = read(encode(draw_digit(0, box=(60, 40, 100, 200), width=16)))
    height, width = extent(zero)
    assert height == 20 and 9 <= width <= 12


def test_polarity_light_on_dark_equals_dark_on_light(four):
    assert_same(read(encode(draw_digit(4, ink=255, paper=0))), four)
    assert_same(read(encode(draw_digit(4, ink=200, paper=30))), four)


def test_photo_with_uneven_light_and_noise(four):
    assert_same(read(encode(photo(draw_digit(4)), "JPEG", quality=80)), four, tolerance=0.05)


def test_white_ink_photo_and_small_scan(four):
    small = photo(draw_digit(4)).resize((40, 40), Image.Resampling.BOX)
    digit = read(encode(small, "JPEG", quality=90))
    assert max(extent(digit)) == 20
    assert np.corrcoef(digit.ravel(), four.ravel())[0, 1] > 0.8


def test_specks_and_faint_noise_are_removed(four):
    image = draw_digit(4)
    rng = np.random.default_rng(1)
    pixels = np.asarray(image).copy()
    for y, x in rng.integers(0, 280, (12, 2)):
        pixels[y: y + 3, x: x + 3] = 0  # dust
    pixels = pixels - rng.integers(0, 20, pixels.shape)  # faint grain
    assert_same(read(encode(Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)))), four)


@pytest.mark.parametrize("as_photo", [False, True])
def test_ruled_lines_and_baselines_are_removed(four, as_photo):
    lined = draw_digit(4)
    draw = ImageDraw.Draw(lined)
    for y in (20, 110, 190, 272):  # two lines cross the digit, one is its baseline
        draw.line([(0, y), (280, y)], fill=150, width=3)
    assert_same(read(encode(photo(lined) if as_photo else lined)), four, tolerance=0.05)


def test_thin_and_thick_strokes_get_mnist_width(four):
    for width in (3, 45):
        digit = read(encode(draw_digit(4, width=width)))
        assert max(extent(digit)) == 20
        ink = (digit > 0.5).sum()
        assert 0.6 < ink / (four > 0.5).sum() < 1.7


def test_exif_orientation_is_applied():
    upright = draw_digit(1, box=(110, 20, 60, 240))
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # as a phone stores a portrait shot
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    image = decode_image(encode(stored, "JPEG", exif=exif))
    assert image.size == upright.size
    height, width = extent(prepare(image))
    assert height == 20 and width < 10


@pytest.mark.parametrize("ink_rgba", [(0, 0, 0, 255), (255, 255, 255, 255), (20, 60, 200, 255)])
def test_transparent_background(four, ink_rgba):
    alpha = draw_digit(4, ink=255, paper=0)
    image = Image.new("RGBA", alpha.size, ink_rgba[:3] + (0,))
    image.putalpha(alpha)
    assert_same(read(encode(image)), four)


def test_an_opaque_canvas_export_reads_as_the_same_picture_without_alpha():
    # The drawing page paints its canvas white and sends RGBA; opaque, it is read as RGB (no compositing),
    # which must give the pixels the compositing gave: exactly for grey strokes, at sizes that are reduced too.
    from ml.preprocess import _composite
    drawing = draw_digit(7, size=(1400, 700), box=(300, 100, 500, 500), ink=(17, 17, 17), paper=(255, 255, 255),
                         mode="RGB").filter(ImageFilter.GaussianBlur(2))  # soft edges, as a canvas draws them
    canvas = drawing.convert("RGBA")
    assert np.array_equal(decode_image(encode(canvas)), decode_image(encode(drawing)))
    assert decode_image(encode(canvas)).mode == "RGB"
    assert inspect_image(encode(canvas)) == ("PNG", 1400, 700)  # the file's format, as stored
    reduced = drawing.resize((1024, 512), Image.Resampling.BOX)
    assert np.array_equal(_composite(reduced.convert("RGBA")), reduced.convert("L"))
    nearly = canvas.copy()
    nearly.putpixel((0, 0), (255, 255, 255, 254))  # not opaque: composited as before
    assert decode_image(encode(nearly)).mode == "RGBA"


def test_sixteen_bit_grey(four):
    pixels = np.asarray(draw_digit(4), np.uint16) * 257
    image = Image.fromarray(pixels)
    data = encode(image)
    assert decode_image(data).mode.startswith("I")
    assert_same(read(data), four)


def test_cmyk_palette_and_colour(four):
    drawing = draw_digit(4, ink=(30, 30, 120), paper=(250, 240, 220), mode="RGB")
    assert_same(read(encode(drawing.convert("CMYK"), "JPEG", quality=95)), four)
    assert_same(read(encode(drawing.convert("CMYK"), "TIFF")), four)
    assert_same(read(encode(drawing.convert("P", palette=Image.Palette.ADAPTIVE, colors=8), "GIF")), four)
    assert_same(read(encode(drawing, "WEBP", lossless=True)), four)
    assert_same(read(encode(drawing, "BMP")), four)


@pytest.mark.parametrize("image", [
    Image.new("L", (280, 280), 255),
    Image.new("RGB", (640, 480), (128, 120, 110)),
    Image.new("RGBA", (280, 280), (0, 0, 0, 0)),
    Image.fromarray(np.random.default_rng(0).normal(200, 3, (300, 300)).astype(np.uint8)),
], ids=["white", "grey", "transparent", "faint-noise"])
def test_blank_image_means_no_digit(image):
    assert read(encode(image)) is None


def test_tiny_image():
    image = Image.new("L", (8, 8), 255)
    image.putpixel((4, 1), 0)
    for y in range(1, 7):
        image.putpixel((4, y), 0)
    digit = read(encode(image))
    assert extent(digit)[0] == 20


@pytest.mark.parametrize("size", [(1, 40), (40, 1), (1, 1)])
def test_one_pixel_wide_crop_means_no_digit(size):
    # Never an upload (decode_image refuses under 8x8), but prepare takes crops too, and must answer for any.
    pixels = np.full(size[::-1], 255, np.uint8)
    pixels[size[1] // 3: 2 * size[1] // 3 + 1, size[0] // 3: 2 * size[0] // 3 + 1] = 0
    assert prepare(Image.fromarray(pixels)) is None


def test_huge_image():
    image = draw_digit(7, size=(6000, 4000), box=(2500, 1500, 600, 1000), width=90)
    digit = read(encode(image, "PNG", compress_level=1))
    assert max(extent(digit)) == 20
    assert np.allclose(ndimage.center_of_mass(digit), (14, 14), atol=0.6)


def test_bad_files_raise_image_error():
    png = encode(draw_digit(4))
    gif = encode(draw_digit(1).convert("P"), "GIF", save_all=True,
                 append_images=[draw_digit(7).convert("P")])
    side = int(MAX_PIXELS ** 0.5) + 100
    bomb = encode(Image.new("1", (side, side)))
    cases = {
        "empty": (b"", "empty"),
        "text": (b"hello, this is not an image\n", "unsupported"),
        "html": (b"<!doctype html><html><body><img src=x></body></html>", "unsupported"),
        "svg": (b'<svg xmlns="http://www.w3.org/2000/svg" width="28" height="28"><path d="M1 1h9"/></svg>',
                "unsupported"),
        "pdf": (b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n", "unsupported"),
        "truncated png": (png[: len(png) // 2], "invalid"),
        "truncated jpeg": (encode(draw_digit(4), "JPEG")[:1500], "invalid"),
        "bomb": (bomb, "too_many_pixels"),
        "animated": (gif, "invalid"),
        "too thin": (encode(Image.new("L", (2100, 100), 255)), "invalid"),
        "too small": (encode(Image.new("L", (6, 6), 255)), "invalid"),
    }
    for name, (data, code) in cases.items():
        with pytest.raises(ImageError) as error:
            decode_image(data)
        message = str(error.value)
        assert message[0].isupper() and message.endswith("."), name
        assert error.value.code == code, name
    assert issubclass(ImageError, ValueError)


def test_the_engine_runs_one_blas_thread():
    """OpenBLAS threads on the engine's tiny least-squares fits fight worker processes for the cores (ml.bench
    --strings: 277 against 694 fields/s in two processes); importing the engine limits them to one."""
    from threadpoolctl import threadpool_info

    import ml.preprocess  # noqa: F401

    blas = [pool for pool in threadpool_info() if pool["user_api"] == "blas"]
    assert blas and all(pool["num_threads"] == 1 for pool in blas)
