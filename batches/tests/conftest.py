import io
import zipfile
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.authtoken.models import Token

from accounts.models import Organization
from accounts.tests.factories import make_official, make_user, token_api_client
from batches import services
from recognition.models import Prediction
from recognition.tests.conftest import media_root, sample  # noqa: F401 (media_root: an autouse fixture)

CARD_THRESHOLD = 0.996  # what the string reader's card is taken to say in these tests


@pytest.fixture(autouse=True)
def card_threshold():
    """Number batches accept from the string reader's card threshold, which moves whenever the reader is
    refitted; the tests here fix it (test_services, which overrides this fixture, checks the real card is used)."""
    with mock.patch("ml.strings.default_threshold", return_value=CARD_THRESHOLD):
        yield CARD_THRESHOLD


@pytest.fixture
def official(db):
    return make_official(email="clerk@first.example", organization=Organization.objects.create(name="First Bank"))


@pytest.fixture
def colleague(official):
    return make_official(email="colleague@first.example", organization=official.organization)


@pytest.fixture
def outsider(db):
    """An official of another bank."""
    return make_official(email="clerk@second.example", organization=Organization.objects.create(name="Second Bank"))


@pytest.fixture
def plain_user(db):
    return make_user(email="someone@example.com")


@pytest.fixture
def official_client(client, official):
    client.force_login(official)
    return client


def api_client(user):
    return token_api_client(Token.objects.create(user=user).key)


def upload(name, data):
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def digit_files(*digits):
    return [upload(f"canvas_{d}.png", sample(f"canvas_{d}.png")) for d in digits]


def zip_of(members, name="scans.zip"):
    """A .zip holding ``members``: a dict of member name to bytes (None for a folder)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        for member, data in members.items():
            if data is None:
                bundle.writestr(zipfile.ZipInfo(member), b"")
            else:
                bundle.writestr(member, data)
    return upload(name, buffer.getvalue())


def read_batch(official, readings, kind="amount", name="Cheques"):
    """A batch whose items have been read as given, without the engine: each reading is (value, confidence)
    for a number kind (value "" when nothing was found), (digit or None, confidence) for digits, or None
    for an item still pending. The items come back in order."""
    with mock.patch("recognition.services.enqueue"):
        files = digit_files(*[n % 10 for n in range(len(readings))])
        batch = services.create_batch(official, name, kind, files)
    items = list(batch.items.order_by("position"))
    for item, reading in zip(items, readings):
        if reading is None:
            continue
        value, confidence = reading
        fields = {"digit": value} if kind == "digit" else {"digits": value}
        Prediction.objects.filter(pk=item.prediction_id).update(
            status="done", confidence=confidence, **fields
        )
    return batch, items
