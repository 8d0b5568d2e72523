"""A batch read end to end by a real Celery worker on the real Redis."""

import time

import pytest
from django.urls import reverse

from batches.models import Batch
from recognition.tests.conftest import number_png, sample

from .conftest import digit_files, upload, zip_of

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def wait_until_finished(client, batch, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        progress = client.get(reverse("batch-progress", args=[batch.pk])).json()
        if progress["finished"]:
            return progress
        time.sleep(0.1)
    raise AssertionError(f"batch {batch.pk} not finished after {timeout} s: {progress}")


def test_every_item_of_a_digit_batch_ends_and_is_read(official_client, celery_worker):
    files = [*digit_files(3, 5, 8), upload("blank.txt", b"text")]
    official_client.post(reverse("batch-create"), {"name": "Digits", "kind": "digit", "files": files})
    batch = Batch.objects.get()
    progress = wait_until_finished(official_client, batch)
    counts = progress["counts"]
    assert counts["total"] == 3 and counts["pending"] == 0 and counts["failed"] == 0
    assert counts["auto_accepted"] + counts["needs_review"] == 3
    assert [item["reading"] for item in progress["items"]] == ["3", "5", "8"]


def test_every_item_of_an_amount_zip_ends(official_client, celery_worker):
    archive = zip_of({"a.png": number_png(), "b.png": number_png(), "c.jpg": sample("scan_4.jpg")})
    official_client.post(reverse("batch-create"), {"name": "Amounts", "kind": "amount", "archive": archive})
    batch = Batch.objects.get()
    progress = wait_until_finished(official_client, batch)
    assert progress["counts"]["total"] == 3 and progress["counts"]["pending"] == 0
    assert all(item["reading"] for item in progress["items"] if item["state"] != "failed")
    page = official_client.get(reverse("batch-detail", args=[batch.pk])).content.decode()
    assert 'data-finished="true"' in page
