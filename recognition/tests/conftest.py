import io
import time
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
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
