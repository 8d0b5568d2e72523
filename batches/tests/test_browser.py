"""In Chromium: the batch page follows the readings without being reloaded."""

from unittest import mock

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import PASSWORD
from batches import services
from batches.models import Batch
from recognition.models import Prediction

from .conftest import digit_files

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_batch_page_updates_its_counts_and_rows_as_items_end(live_server, page, official):
    with mock.patch("recognition.services.enqueue"):  # the test ends the readings itself
        batch = services.create_batch(official, "Live", Batch.Kind.DIGIT, digit_files(1, 2))
    page.goto(live_server.url + "/accounts/login/")
    page.fill("input[name=username]", official.email)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Your profile").wait_for()
    page.goto(f"{live_server.url}/batches/{batch.pk}/")
    expect(page.locator("#progress-ended")).to_have_text("0")
    loaded_at = page.evaluate("performance.timeOrigin")

    first, second = [item.prediction_id for item in batch.items.all()]
    Prediction.objects.filter(pk=first).update(status="done", digit=1, confidence=0.999)
    Prediction.objects.filter(pk=second).update(status="done", digit=2, confidence=0.4)

    expect(page.locator("#progress-ended")).to_have_text("2", timeout=6_000)
    expect(page.locator('[data-count="auto_accepted"]')).to_have_text("1")
    expect(page.locator('[data-count="needs_review"]')).to_have_text("1")
    rows = page.locator("tr[data-item]")
    expect(rows.nth(0).locator('[data-field="state"]')).to_have_text("Accepted automatically")
    expect(rows.nth(1).locator('[data-field="reading"]')).to_have_text("2")
    expect(rows.nth(1).locator('[data-field="confidence"]')).to_have_text("40%")
    assert page.evaluate("performance.timeOrigin") == loaded_at  # not reloaded
