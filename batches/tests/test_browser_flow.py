"""In Chromium, with a real Celery worker: an official uploads a zip, watches the bar finish, clears the review
queue with the keyboard only and exports the batch."""

import csv
import io
import re

import pytest
from playwright.sync_api import expect

from accounts.tests.browser import log_in
from batches import selectors
from batches.models import Batch, BatchItem
from recognition.tests.conftest import sample

from .conftest import zip_of

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]
DIGITS = [3, 5, 7, 8]


def test_zip_to_export_with_the_keyboard(live_server, page, official, celery_worker, tmp_path):
    # A strict bank: only readings as sure as can be pass without a person.
    official.organization.auto_accept_threshold = 1.0
    official.organization.save()
    archive = tmp_path / "march.zip"
    archive.write_bytes(zip_of({f"cheque-{d}.png": sample(f"canvas_{d}.png") for d in DIGITS}).read())

    log_in(page, live_server, official.email)
    page.goto(live_server.url + "/batches/new/")
    page.fill("input[name=name]", "March")
    page.get_by_label("Single digits").check()
    page.set_input_files("input[name=archive]", str(archive))
    page.get_by_role("button", name="Create the batch").click()
    expect(page.get_by_role("heading", name="March")).to_be_visible()

    # The worker reads them; the page follows without a reload until every item has ended.
    expect(page.locator("#progress-ended")).to_have_text(str(len(DIGITS)), timeout=30_000)
    expect(page.locator("#state-bar")).not_to_have_attribute("aria-label", re.compile("Pending"))
    batch = Batch.objects.get()
    unsure = [item for item in selectors.items_of(batch) if item.state == BatchItem.State.NEEDS_REVIEW]
    assert unsure, "every reading was auto-accepted; the review part proves nothing"

    page.goto(live_server.url + "/review/")
    page.get_by_role("link", name="Start reviewing").focus()
    page.keyboard.press("Enter")
    for _ in unsure:  # lowest confidence first; Enter accepts each reading and opens the next
        expect(page.locator("#review-form[data-keys=on]")).to_be_attached()
        expect(page.locator("#id_value")).to_be_focused()
        page.keyboard.press("Enter")
    expect(page.get_by_text("The queue is empty")).to_be_visible()

    states = {item.original_name: item.state for item in selectors.items_of(batch)}
    assert states == {item.original_name: "accepted" if item in unsure else "auto_accepted"
                      for item in selectors.items_of(batch)}
    page.goto(f"{live_server.url}/batches/{batch.pk}/")
    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    rows = list(csv.DictReader(io.StringIO(open(download.value.path(), encoding="utf-8").read())))
    assert sorted(row["file_name"] for row in rows) == [f"cheque-{d}.png" for d in DIGITS]
    assert {row["file_name"]: row["state"] for row in rows} == states
    assert all(row["reviewer"] == (official.email if row["state"] == "accepted" else "") for row in rows)
    assert all(row["final_value"] == row["reading"] != "" for row in rows)
