"""Properties over generated images (Hypothesis): preprocessing always gives an MNIST-form digit or None,
decoding any bytes gives an image or an ImageError, and reading never raises (issue 11, defect 7)."""
import io

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from ml import fuzz
from ml.inference import Reading, get_recognizer
from ml.preprocess import ImageError, decode_image, prepare

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:PIL.*")  # about each damaged file

# Derandomized, so that CI runs the same examples every time, and no example database in the worktree.
PROPERTIES = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                      suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def assert_mnist_form(digit):
    if digit is not None:
        assert digit.shape == (28, 28) and digit.dtype == np.float32
        assert np.isfinite(digit).all() and digit.min() >= 0 and digit.max() <= 1


def png(pixels):
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_row_and_a_column_on_black_is_read():
    """The image from the issue: _background's normal equations were singular on it."""
    pixels = np.zeros((200, 200), np.uint8)
    pixels[0, :] = 255
    pixels[:, 0] = 128
    data = png(pixels)
    assert_mnist_form(prepare(decode_image(data)))
    assert isinstance(get_recognizer().read([data])[0], Reading)


@pytest.mark.parametrize("mode", fuzz.MODES)
@PROPERTIES
@given(data=st.data())
def test_prepare_gives_an_mnist_digit_or_none(mode, data):
    assert_mnist_form(prepare(data.draw(fuzz.images(modes=[mode]))))


@PROPERTIES
@given(fuzz.uploads())
def test_decoding_any_bytes_gives_an_image_or_an_image_error(data):
    try:
        image = decode_image(data)
    except ImageError as error:
        message = str(error)
        assert message[0].isupper() and message.endswith(".")
        return
    assert isinstance(image, Image.Image) and max(image.size) <= 1024


@PROPERTIES
@given(st.lists(fuzz.uploads(), min_size=1, max_size=4))
def test_reading_never_raises(uploads):
    results = get_recognizer().read(uploads)
    assert len(results) == len(uploads)
    for result in results:
        assert isinstance(result, (Reading, ImageError))


def test_the_fuzzer_runs_for_its_time_and_finds_no_crash(tmp_path):
    output = io.StringIO()
    counts = fuzz.fuzz(20, tmp_path, report_every=5, stream=output)
    assert counts["crashes"] == 0, output.getvalue()
    assert counts["inputs"] == counts["passed"] + counts["refused"] > 100
    assert counts["passed"] > 0 and counts["refused"] > 0
    assert "passed the check" in output.getvalue()
    assert not list(tmp_path.iterdir())
