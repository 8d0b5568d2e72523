"""In Chromium: images and a zip dropped on the new-batch form make one batch; its page shows the bar and
pace as items end."""

import base64
from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.tests.browser import log_in as form_log_in
from batches.models import Batch
from recognition.models import Prediction
from recognition.tests.conftest import sample

from .conftest import zip_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DROP = """([files, zone]) => {
  const dropped = new DataTransfer();
  for (const [name, type, data] of files) {
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    dropped.items.add(new File([bytes], name, { type }));
  }
  document.querySelector(zone).dispatchEvent(new DragEvent("drop", { dataTransfer: dropped, bubbles: true }));
}"""


def as_file(name, data, kind="image/png"):
    return [name, kind, base64.b64encode(data).decode()]


def log_in(page, live_server, user):
    form_log_in(page, live_server, user.email)


def test_dropped_images_and_a_zip_make_one_batch_and_its_page_follows_them(live_server, page, official):
    log_in(page, live_server, official)
    page.goto(f"{live_server.url}/batches/new/")
    page.fill("input[name=name]", "Dropped")
    page.get_by_label("Single digits").check()
    zone = page.locator("#dropzone")
    expect(zone).to_be_visible()
    archive = zip_of({"z1.png": sample("canvas_3.png"), "z2.png": sample("canvas_4.png")}).read()
    page.evaluate(DROP, [[as_file("a.png", sample("canvas_1.png"))], "#dropzone"])
    # A second drop adds to the first; only one zip is taken.
    zips = [as_file("scans.zip", archive, "application/zip"), as_file("more.zip", archive, "application/zip")]
    page.evaluate(DROP, [[as_file("b.png", sample("canvas_2.png")), *zips], "#dropzone"])
    expect(page.locator("#drop-summary")).to_contain_text("Chosen: 2 images and the zip scans.zip")
    expect(page.locator("#drop-summary")).to_contain_text("A batch takes one .zip: more.zip left out.")
    with mock.patch("recognition.services.enqueue"):  # the test ends the readings itself
        page.get_by_role("button", name="Create the batch").click()
        expect(page.get_by_role("heading", name="Dropped")).to_be_visible()
    batch = Batch.objects.get()
    names = sorted(batch.items.values_list("original_name", flat=True))
    assert names == ["a.png", "b.png", "z1.png", "z2.png"]
    expect(page.locator("#progress-pace")).to_have_text("unknown")

    done = timezone.now()
    predictions = batch.items.order_by("position").values_list("prediction", flat=True)
    for number, prediction_id in enumerate(predictions[:3]):
        Prediction.objects.filter(pk=prediction_id).update(
            status="done", digit=number, confidence=0.999, finished_at=done - timedelta(seconds=4 - number))
    expect(page.locator("#progress-ended")).to_have_text("3", timeout=6_000)
    expect(page.locator("#progress-pace")).to_contain_text("items/s")
    expect(page.locator("#progress-left")).not_to_have_text("unknown")
    summary = "Accepted automatically: 3, Pending: 1"
    expect(page.locator("#state-bar")).to_have_attribute("aria-label", summary)
    expect(page.locator('[data-segment="auto_accepted"]')).to_have_attribute("style", "width: 75%;")


def test_the_drop_summary_speaks_the_pages_language(live_server, page, official):
    log_in(page, live_server, official)
    page.context.add_cookies([{"name": "django_language", "value": "hi", "url": live_server.url}])
    page.goto(f"{live_server.url}/batches/new/")
    files = [as_file("a.png", sample("canvas_1.png")), as_file("b.png", sample("canvas_2.png"))]
    page.evaluate(DROP, [files, "#dropzone"])
    expect(page.locator("#drop-summary")).to_contain_text("चुनी गईं: 2 छवियाँ (")
