"""As a person uses it, in Chromium: draw with the mouse, upload, see results and history."""

import base64
from pathlib import Path

import pytest
from playwright.sync_api import expect

from accounts.tests.browser import log_in as form_log_in
from accounts.tests.browser import save_screenshot
from accounts.tests.factories import make_user
from bench.click_to_answer import draw_seven
from recognition.models import Prediction

from .conftest import SAMPLES, number_png
from .test_viewports import SCREENSHOTS

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def log_in(page, live_server, email):
    make_user(email=email)
    form_log_in(page, live_server, email)


def test_draw_a_seven_and_see_it_read(live_server, page, celery_worker):
    log_in(page, live_server, "drawer@example.com")
    page.get_by_role("link", name="Draw", exact=True).click()
    page.wait_for_url("**/draw/")
    page.wait_for_load_state()
    # A stray stroke, taken back with Undo.
    box = page.locator("#pad").bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + 20)
    page.mouse.down()
    page.mouse.move(box["x"] + 60, box["y"] + 300, steps=5)
    page.mouse.up()
    page.get_by_role("button", name="Undo").click()
    draw_seven(page)
    panel_requests = []
    page.on("request", lambda request: "/panel/" in request.url and panel_requests.append(request.url))
    page.get_by_role("button", name="Read it").click()

    # Answered in place, beside the drawing, which stays for another try.
    digit = page.locator("#draw-answer #digit")
    digit.wait_for(timeout=15_000)
    assert digit.inner_text() == "7"
    expect(page.locator("#draw-answer .bar")).to_have_count(10)
    assert page.url.endswith("/draw/")
    # One long-poll, answered when the reading ended: no polling, no page load.
    assert len(panel_requests) == 1 and panel_requests[0].endswith("/panel/?wait=10")
    save_screenshot(page, SCREENSHOTS / "draw-answer-1280x900.png")
    page.get_by_role("link", name="Open the result page").click()
    page.get_by_role("heading", name="Result").wait_for()
    assert page.locator("#digit").inner_text() == "7"
    # The image fits its container at this size.
    image = page.locator(".result-image img").bounding_box()
    frame = page.locator(".result-image").bounding_box()
    assert image["width"] <= frame["width"]


def test_upload_a_scan_and_find_it_in_history(live_server, page, celery_worker):
    log_in(page, live_server, "uploader@example.com")
    page.get_by_role("link", name="Upload", exact=True).click()
    page.wait_for_url("**/upload/")
    page.wait_for_load_state()  # upload.js, at the end of the page, has attached its listeners
    page.locator("input[type=file]").set_input_files(str(SAMPLES / "scan_3.jpg"))
    expect(page.locator("#previews img")).to_have_count(1)
    page.get_by_role("button", name="Read them").click()
    page.locator("#digit").wait_for(timeout=15_000)
    assert page.locator("#digit").inner_text() == "3"

    page.get_by_role("navigation").get_by_role("link", name="History").click()
    page.wait_for_url("**/predictions/")
    expect(page.locator(".history-item")).to_have_count(1)
    assert page.locator(".history-digit").inner_text() == "3"


def test_a_pdf_gets_a_clear_message(live_server, page, tmp_path):
    log_in(page, live_server, "pdf@example.com")
    pdf = Path(tmp_path) / "statement.pdf"
    pdf.write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n%%EOF")
    page.goto(live_server.url + "/upload/")
    page.locator("input[type=file]").set_input_files(str(pdf))
    page.get_by_role("button", name="Read them").click()
    alert = page.get_by_role("alert")
    assert "“statement.pdf”: This file is not an image we can read" in alert.inner_text()


def test_result_page_fits_a_phone(live_server, page, celery_worker):
    log_in(page, live_server, "phone@example.com")
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(live_server.url + "/upload/")
    page.locator("input[type=file]").set_input_files(str(SAMPLES / "canvas_5.png"))
    page.get_by_role("button", name="Read them").click()
    page.locator("#digit").wait_for(timeout=15_000)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_drop_several_images_preview_them_and_send_them(live_server, page, celery_worker):
    log_in(page, live_server, "dropper@example.com")
    page.goto(live_server.url + "/upload/")
    files = [{"name": name, "b64": base64.b64encode((SAMPLES / name).read_bytes()).decode()}
             for name in ("canvas_2.png", "scan_6.jpg")]
    page.evaluate(
        """(files) => {
            const dropped = new DataTransfer();
            for (const f of files) {
                const bytes = Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0));
                dropped.items.add(new File([bytes], f.name, {type: f.name.endsWith(".png") ? "image/png" : "image/jpeg"}));
            }
            document.getElementById("dropzone").dispatchEvent(new DragEvent("drop", {dataTransfer: dropped, bubbles: true}));
        }""",
        files,
    )
    expect(page.locator("#previews img")).to_have_count(2)
    page.get_by_role("button", name="Read them").click()
    page.wait_for_url("**/predictions/")
    assert "2 images are being read" in page.content()
    page.wait_for_function("document.querySelectorAll('.history-item').length === 2")


def test_upload_a_number_and_see_each_digit_boxed_over_the_image(live_server, page, celery_worker, tmp_path):
    log_in(page, live_server, "numbers@example.com")
    page.goto(live_server.url + "/upload/")
    page.get_by_label("A number (several digits)").check()
    (tmp_path / "amount.png").write_bytes(number_png())
    page.locator("input[type=file]").set_input_files(str(tmp_path / "amount.png"))
    page.get_by_role("button", name="Read them").click()
    page.locator("#digits").wait_for(timeout=15_000)
    digits = page.locator("#digits").inner_text()
    assert digits
    expect(page.locator(".characters .bar")).to_have_count(len(digits))
    # The boxes lie over the image, scaled with it, left to right.
    boxes = page.locator(".result-image .boxes .box rect")
    expect(boxes).to_have_count(len(digits))
    # Measured once the image has loaded: until then it lays out with no width (a race seen under load).
    page.wait_for_function("document.querySelector('.result-image img').naturalWidth > 0")
    image = page.locator(".result-image img").bounding_box()
    placed = [boxes.nth(i).bounding_box() for i in range(len(digits))]
    for box in placed:
        assert image["x"] <= box["x"] and box["x"] + box["width"] <= image["x"] + image["width"] + 1
        assert image["y"] <= box["y"] and box["y"] + box["height"] <= image["y"] + image["height"] + 1
    assert [box["x"] for box in placed] == sorted(box["x"] for box in placed)

    page.goto(live_server.url + "/predictions/")
    assert page.locator(".history-digit").inner_text() == digits


def test_draw_several_digits_on_a_wide_pad(live_server, page, celery_worker):
    log_in(page, live_server, "several@example.com")
    page.goto(live_server.url + "/draw/")
    page.wait_for_load_state()
    pad = page.locator("#pad")
    assert pad.get_attribute("width") == pad.get_attribute("height")
    page.get_by_label("Several digits").check()
    box = pad.bounding_box()
    assert box["width"] > 3 * box["height"]

    def stroke(*points):
        page.mouse.move(box["x"] + points[0][0] * box["width"], box["y"] + points[0][1] * box["height"])
        page.mouse.down()
        for x, y in points[1:]:
            page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"], steps=8)
        page.mouse.up()

    stroke((0.2, 0.15), (0.2, 0.85))  # a 1
    stroke((0.35, 0.15), (0.5, 0.15), (0.42, 0.85))  # a 7
    page.get_by_role("button", name="Read it").click()
    page.locator("#draw-answer #digits").wait_for(timeout=15_000)
    assert page.locator("#digits").inner_text()
    assert Prediction.objects.get().kind == Prediction.Kind.NUMBER


def test_without_javascript_a_drawing_upload_still_gets_its_answer(live_server, browser, celery_worker):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    log_in(page, live_server, "nojs@example.com")
    page.goto(live_server.url + "/upload/")
    page.locator("input[type=file]").set_input_files(str(SAMPLES / "canvas_5.png"))
    page.get_by_role("button", name="Read them").click()
    page.get_by_role("heading", name="Result").wait_for()
    # The pending page reloads itself (a meta refresh in <noscript>) until the reading is done.
    page.locator("#digit").wait_for(timeout=15_000)
    assert page.locator("#digit").inner_text() == "5"
    context.close()
