import io
import time
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw
from rest_framework.authtoken.models import Token

from accounts.tests.factories import make_user, token_api_client
from recognition.models import Prediction

# Real digits the engine's own tests use: canvas drawings, grey scans, cheque crops.
SAMPLES = Path(__file__).resolve().parents[2] / "ml" / "tests" / "fixtures"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def user(db):
    return make_user(email="owner@example.com")


@pytest.fixture
def other_user(db):
    return make_user(email="someone.else@example.com")


def token_client(user):
    """An API client that sends a new token of the user's."""
    return token_api_client(Token.objects.create(user=user).key)


@pytest.fixture
def api(user):
    return token_client(user)


@pytest.fixture
def stranger(other_user):
    return token_client(other_user)


@pytest.fixture
def owner_client(client, user):
    client.force_login(user)
    return client


def sample(name):
    return (SAMPLES / name).read_bytes()


def upload(name, data, content_type="application/octet-stream"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def png(image):
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def blank_png(size=(280, 280)):
    return png(Image.new("L", size, 255))


def number_png():
    """A line of three digits drawn with strokes, 1 0 7, as a pen would: a number to read."""
    image = Image.new("L", (360, 120), 255)
    draw = ImageDraw.Draw(image)
    draw.line([(40, 20), (40, 100)], fill=0, width=10)
    draw.ellipse([100, 20, 160, 100], outline=0, width=10)
    draw.line([(220, 25), (280, 25), (240, 100)], fill=0, width=10)
    return png(image)


def assert_read_left_to_right(digits, characters, width, height):
    """A number read: some digits, one character each, in order, each box inside the image and to the
    right of the one before."""
    assert digits and [c["digit"] for c in characters] == list(digits)
    lefts = [c["box"][0] for c in characters]
    assert lefts == sorted(lefts) and len(set(lefts)) == len(lefts)
    for c in characters:
        x, y, w, h = c["box"]
        assert 0 <= x and 0 <= y and w > 0 and h > 0 and x + w <= width and y + h <= height
        assert 0 <= c["confidence"] <= 1


def stored_files(media_root):
    return sorted(p for p in Path(media_root).rglob("*") if p.is_file())


def wait_until_done(prediction_id, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        prediction = Prediction.objects.get(pk=prediction_id)
        if prediction.status != Prediction.Status.PENDING:
            return prediction
        time.sleep(0.05)
    raise AssertionError(f"prediction {prediction_id} still pending after {timeout} s")
