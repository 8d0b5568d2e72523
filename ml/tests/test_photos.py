"""Digits in photos: the generated photo set (ml.photos) and reading a sheet of paper on a desk, in shadow."""
import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image
from scipy import ndimage

from ml import evaluate, fuzz
from ml.evaluate import CONFIDENT
from ml.inference import get_recognizer
from ml.strings import PHOTO_PAD, get_string_reader, prepare_line
from ml.synth_strings import HEIGHT, WIDTH
from ml import photos
from ml.data import orand_labels, orand_split
from ml.photos import (CANVAS, CANVAS_INK, _printed, _shadow, compose, continental_digit_sample, continental_sample,
                       drawing_sample, ink_lean, lean, leaning_sample, photo_sample)
from ml.preprocess import MIN_SIDE, SCAN_SIDE, ImageError, ink_map, prepare
from ml.tests.synth import draw_digit, encode
from ml.tests.test_properties import PROPERTIES, assert_mnist_form
from ml.tests.test_strings import orand_or_skip

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SIZE = (800, 600)  # small for speed, but larger than preprocess.SCAN_SIDE: read as a photo


@pytest.fixture(scope="module")
def digits():
    """MNIST test digits as canvas drawings (the fixtures), ink high, and their labels."""
    images = [255 - np.asarray(Image.open(FIXTURES / f"canvas_{d}.png").convert("L")) for d in range(10)]
    return images, np.arange(10)


def test_the_generator_is_deterministic_and_its_labels_match(digits):
    images, labels = digits
    first, label = photo_sample(images, labels, seed=3, index=5, size=SIZE)
    assert photo_sample(images, labels, seed=3, index=5, size=SIZE) == (first, label)
    assert photo_sample(images, labels, seed=3, index=6, size=SIZE)[0] != first
    assert photo_sample(images, labels, seed=4, index=5, size=SIZE)[0] != first
    # The label is the class of the digit drawn: draw from one class only and it must come back.
    assert photo_sample([images[7]], [7], seed=3, index=5, size=SIZE)[1] == "7"
    line, text = photo_sample(images, labels, seed=3, index=5, strings=True, size=SIZE)
    assert 2 <= len(text) <= 6 and text.isdigit()
    assert Image.open(io.BytesIO(line)).size == SIZE


def test_generated_photos_have_phone_sizes(digits):
    images, labels = digits
    sizes = [Image.open(io.BytesIO(photo_sample(images, labels, 1, i)[0])).size for i in range(2)]
    assert all(1000 <= max(size) <= 3000 for size in sizes)


def shaded(rng, photo):
    """The photo under a cast shadow as well."""
    shade = _shadow(rng, photo.size[::-1])[..., None]
    return Image.fromarray(np.clip(np.asarray(photo, np.float32) * shade, 0, 255).astype(np.uint8))


def test_digits_on_paper_on_a_desk_in_shadow_are_read(digits):
    images, _ = digits
    uploads = []
    for d in range(10):
        rng = np.random.default_rng([12, d])
        uploads.append(encode(shaded(rng, compose(rng, [images[d]], SIZE)), "JPEG", quality=70))
    readings = get_recognizer().read(uploads)
    assert all(r.status == "done" for r in readings)
    # The shadow's edge runs through the 3 and closes it: every model so far has been unsure of it (the
    # MNIST-only model 44 % for 3, 36 % for 8), and the latest reads it as 9 at 42 %. Unsure is allowed there;
    # wrong and sure is not.
    wrong = [r for d, r in enumerate(readings) if r.digit != d]
    assert len(wrong) <= 1 and all(r.confidence < 0.5 for r in wrong)


def test_the_newcomers_blue_four(digits):
    """A blue 4 on off-white paper with desk around it, with and without a shadow."""
    four = 255 - np.asarray(draw_digit(4))
    rng = np.random.default_rng(4)
    photo = compose(rng, [four], SIZE)
    for image in (photo, shaded(rng, photo)):
        reading = get_recognizer().read_one(encode(image, "JPEG", quality=80))
        assert (reading.digit, reading.status) == (4, "done")


@pytest.mark.parametrize("seed", range(4))
def test_a_sheet_with_no_writing_is_blank_or_unsure(seed):
    rng = np.random.default_rng([99, seed])
    empty = shaded(rng, compose(rng, [np.zeros((28, 28), np.uint8)], SIZE))
    reading = get_recognizer().read_one(encode(empty, "JPEG", quality=80))
    # Blank, or a digit read with less confidence than a confidently wrong answer has (ml.evaluate). The
    # model fine-tuned on cheque crops reads the texture one of these leaves as a 0 at 0.60.
    assert reading.digit is None or reading.confidence < CONFIDENT


@pytest.fixture(scope="module")
def mnist_form(digits):
    """The fixtures' digits in MNIST form (28 x 28, ink high, 0-255), as MNIST gives the generators its digits."""
    return [np.round(255 * prepare(Image.fromarray(255 - image))) for image in digits[0]], digits[1]


@pytest.mark.parametrize("strings", [False, True])
def test_drawings_are_made_as_the_drawing_page_makes_them(mnist_form, strings):
    images, labels = mnist_form
    data, label = drawing_sample(images, labels, seed=3, index=5, strings=strings)
    assert drawing_sample(images, labels, seed=3, index=5, strings=strings) == (data, label)
    assert drawing_sample(images, labels, seed=3, index=6, strings=strings)[0] != data
    assert drawing_sample([images[7]], [7], seed=3, index=5, strings=strings)[1] == "7" * len(label)
    assert (2 <= len(label) <= 6) if strings else len(label) == 1
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG" and image.size == CANVAS[strings]  # static/js/draw.js's canvas
    grey = np.asarray(image.convert("L"))
    assert grey.min() == CANVAS_INK and np.median(grey) == 255
    # The pen: strokes a twentieth of the canvas's shorter side wide, wherever the digit's shape left them whole.
    inked = grey < (255 + CANVAS_INK) / 2
    distance = ndimage.distance_transform_edt(inked)
    ridge = inked & (distance >= ndimage.maximum_filter(distance, 3))
    assert abs(np.median(2 * distance[ridge]) - min(CANVAS[strings]) / 20) <= 3


@pytest.fixture(scope="module")
def bar_ones(mnist_form):
    """The fixtures' digits in MNIST form with their 1 replaced by two upright bars (1s a --lean set can shear)."""
    images, labels = mnist_form
    bar = np.zeros((28, 28), np.float32)
    bar[4:24, 13:15] = 255  # an upright 1
    others = [image for image, label in zip(images, labels) if label != 1]
    return [bar, np.roll(bar, 3, axis=1)] + others, [1, 1] + [label for label in labels if label != 1]


def test_a_lean_set_draws_the_same_numbers_with_its_ones_leaning(bar_ones):
    images, labels = bar_ones
    bar = images[0]
    assert abs(ink_lean(bar)) < 1
    for degrees in (-10, 10, 25, 40):
        assert abs(ink_lean(lean(bar, degrees)) - degrees) < 2
    upright, label = leaning_sample(images, labels, seed=3, index=5, degrees=0)
    leaning, same = leaning_sample(images, labels, seed=3, index=5, degrees=25)
    assert leaning_sample(images, labels, seed=3, index=5, degrees=25) == (leaning, same)
    assert same == label and len(label) == 4 and label.count("1") == 2  # the same number at every angle
    assert Image.open(io.BytesIO(leaning)).size == CANVAS[True] and leaning != upright


def test_a_continental_set_draws_two_ones_or_sevens_written_so(mnist_form, tmp_path):
    images, labels = mnist_form
    data, label = continental_sample(images, labels, seed=3, index=5)
    assert continental_sample(images, labels, seed=3, index=5) == (data, label)
    assert len(label) == 4 and sum(digit in "17" for digit in label) == 2
    assert Image.open(io.BytesIO(data)).size == CANVAS[True]
    with pytest.raises(SystemExit):
        photos.main(["--continental", "--out", str(tmp_path)])  # drawings of numbers, or --digit
    with pytest.raises(SystemExit):
        photos.main(["--digit", "1", "--out", str(tmp_path)])  # --digit picks the continental digit
    with pytest.raises(SystemExit):
        photos.main(["--continental", "--digit", "1", "--strings", "--out", str(tmp_path)])  # single digits


@pytest.mark.parametrize("digit", [1, 7])
def test_a_continental_digit_set_holds_one_such_digit_per_image(mnist_form, digit):
    images, labels = mnist_form
    upload, label = continental_digit_sample(images, labels, seed=3, index=0, digit=digit)
    assert label == str(digit) and continental_digit_sample(images, labels, 3, 0, digit) == (upload, label)
    image = np.asarray(Image.open(io.BytesIO(upload)).convert("L"))
    assert image.shape == (112, 112) and image.min() < 64 and np.median(image) > 200  # dark ink on white
    drawn, _ = continental_digit_sample(images, labels, seed=3, index=0, digit=digit, drawn=True)
    assert Image.open(io.BytesIO(drawn)).size == CANVAS[False]


def test_a_continental_digit_set_draws_each_digit_once(mnist_form, monkeypatch):
    images, labels = mnist_form
    monkeypatch.setattr(photos, "continental", lambda digit, label, rng: digit)  # the source digit as it is
    pool = [*images, *[np.roll(images[1], shift, axis=1) for shift in (-2, -1, 1, 2)]]  # five 1s, all different
    pool_labels = [*labels, 1, 1, 1, 1]
    uploads = [continental_digit_sample(pool, pool_labels, 3, i, 1)[0] for i in range(6)]
    assert len(set(uploads[:5])) == 5  # a permutation of the five: each once
    assert uploads[5] in uploads[:5]  # and then again from the start


def test_a_field_is_printed_as_its_scans_darkness():
    field = np.full((50, 150), 220, np.uint8)  # a scan's paper, greyer than white
    field[10:40, 70:76] = 40  # a stroke
    printed = _printed(field, 100)
    assert printed.shape == (100, 300)
    assert printed[:, :100].max() < 0.01  # the paper prints nothing
    assert 0.75 < printed[30:70, 145:148].mean() < 0.9  # the stroke prints as dark as it is against that paper


def test_photos_of_cheque_fields(tmp_path):
    """--orand: one phone photo of each cheque field of a split, labelled as ml.data.orand_labels gives it."""
    root = orand_or_skip()
    photos.main(["--orand", str(root), "--split", "validation", "--count", "2", "--out", str(tmp_path / "a")])
    photos.main(["--orand", str(root), "--split", "validation", "--count", "2", "--out", str(tmp_path / "b")])
    with open(tmp_path / "a" / "labels.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    labels = orand_labels(root)
    assert [row["digits"] for row in rows] == [labels[name] for name in orand_split("validation")[:2]]
    for row in rows:
        data = (tmp_path / "a" / "images" / row["file"]).read_bytes()
        assert data == (tmp_path / "b" / "images" / row["file"]).read_bytes()  # photo i: the seed and i only
        image = Image.open(io.BytesIO(data))
        assert image.format == "JPEG" and 1000 <= max(image.size) <= 3000


def test_drawn_digits_are_read(mnist_form):
    images, labels = mnist_form
    uploads = [drawing_sample([images[d]], [d], seed=9, index=d)[0] for d in range(10)]
    assert [reading.digit for reading in get_recognizer().read(uploads)] == list(range(10))


def test_drawn_numbers_are_read(mnist_form):
    """The drawing page's "several digits": 30 numbers of 2-6 of the fixtures' digits, drawn as the page does. The
    shipped reader reads all 30 and accepts them all."""
    images, labels = mnist_form
    samples = [drawing_sample(images, labels, seed=11, index=i, strings=True) for i in range(30)]
    readings = get_string_reader().read([data for data, _ in samples])
    right = [reading.digits == label for reading, (_, label) in zip(readings, samples)]
    assert sum(right) >= 28
    assert all(ok for ok, reading in zip(right, readings) if reading.auto_accept)
    assert sum(reading.auto_accept for reading in readings) >= 24


def test_drawn_ones_leaning_like_slashes_are_read(bar_ones):
    """Numbers with two 1s drawn as bars leaning 25 degrees: the CRNN, taught to leave slashes out, read 18 of 30;
    the digit CNN reading the strokes it left out reads 24 (StringReader._read_left_out); none is accepted wrong."""
    images, labels = bar_ones
    samples = [leaning_sample(images, labels, seed=7, index=i, degrees=25) for i in range(30)]
    readings = get_string_reader().read([data for data, _ in samples])
    right = [reading.digits == label for reading, (_, label) in zip(readings, samples)]
    assert sum(right) >= 22
    assert all(ok for ok, reading in zip(right, readings) if reading.auto_accept)


def test_evaluate_photos_cli(digits, tmp_path, capsys):
    images, labels = digits
    (tmp_path / "images").mkdir()
    with open(tmp_path / "labels.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["file", "digits"])
        for i in range(3):
            data, label = photo_sample(images, labels, seed=5, index=i, size=SIZE)
            (tmp_path / "images" / f"{i}.jpg").write_bytes(data)
            writer.writerow([f"{i}.jpg", label])
    evaluate.main(["--photos", str(tmp_path), "--json"])
    figures = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert figures["images"] == 3 and figures["accuracy"] == 1.0
    assert figures["blank"] == figures["confidently_wrong"] == 0.0


@PROPERTIES
@given(pixels=fuzz.patterns(), tint=st.tuples(fuzz.LEVELS, fuzz.LEVELS, fuzz.LEVELS), side=st.integers(SCAN_SIDE + 1, 1024))
def test_any_photo_sized_pattern_gives_a_digit_in_the_image_or_none(pixels, tint, side):
    """The fuzzer's patterns (rows, boxes, gradients, noise), in colour and scaled up to a photo's size."""
    image = Image.fromarray(np.round(pixels[..., None] * np.array(tint) * 255).astype(np.uint8))
    scale = side / max(image.size)
    image = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))))
    found = ink_map(image)
    if found is not None:
        ink, (top, left) = found.ink, found.origin
        assert ink.any() and top + ink.shape[0] <= image.height and left + ink.shape[1] <= image.width
    assert_mnist_form(prepare(image))


def on_a_sheet(image):
    """The pattern, a fifth of the sheet each way, printed on a plain sheet lying on a dark desk."""
    sheet = np.full((image.height, image.width, 3), 225.0, np.float32)
    small = np.asarray(image.resize((max(1, image.width // 5), max(1, image.height // 5))), np.float32) / 255
    top, left = 2 * image.height // 5, 2 * image.width // 5
    sheet[top: top + small.shape[0], left: left + small.shape[1]] *= 0.3 + 0.7 * small
    desk = Image.new("RGB", (image.width + 200, image.height + 200), (40, 35, 30))
    desk.paste(Image.fromarray(sheet.astype(np.uint8)), (100, 100))
    return desk


@PROPERTIES
@given(pixels=fuzz.patterns(), tint=st.tuples(fuzz.LEVELS, fuzz.LEVELS, fuzz.LEVELS), side=st.integers(SCAN_SIDE + 1, 1024))
def test_any_photo_sized_pattern_gives_a_line_or_none(pixels, tint, side):
    """The same patterns through the string reader's preparation, where a photo of a sheet is cut around its
    writing and the cut read as a scan, as they are and printed small on a sheet on a desk (which takes that path):
    a line of the model's shape inside the image, nothing, or an ImageError."""
    image = Image.fromarray(np.round(pixels[..., None] * np.array(tint) * 255).astype(np.uint8))
    scale = side / max(image.size)
    image = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))))
    for photo in (image, on_a_sheet(image)):
        try:
            line = prepare_line(encode(photo))
        except ImageError:
            assert min(photo.size) < MIN_SIDE
            continue
        if line is not None:
            assert line.x.shape == (HEIGHT, WIDTH) and np.isfinite(line.x).all()
            assert -PHOTO_PAD <= line.origin[0] < photo.height and -PHOTO_PAD <= line.origin[1] < photo.width


def test_two_lines_of_digits_are_never_accepted(mnist_form):
    """The reader reads one line. An image holding two (two numbers drawn one above the other, each as the page
    draws it) gets some reading, but never one accepted automatically: a person must look at it."""
    images, labels = mnist_form
    uploads = []
    for index in range(20):
        rng = np.random.default_rng([13, index])
        upper, lower = (photos.drawing(rng, photos._pick(rng, images, labels, True)[0]) for _ in range(2))
        both = Image.new("L", (upper.width, upper.height + lower.height), 255)
        both.paste(upper, (0, 0))
        both.paste(lower, (0, upper.height))
        uploads.append(photos._page_png(both))
    readings = get_string_reader().read(uploads)
    assert not any(reading.auto_accept for reading in readings)
    assert max(reading.confidence for reading in readings) < 0.9
