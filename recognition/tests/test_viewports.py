"""The single-user pages at a wide screen, a laptop, a tablet and a phone, in Chromium: nothing scrolls
sideways, the layout findings of issue 14 stay fixed, and each page is saved as a screenshot under
var/screenshots/ (a test artifact, not compared)."""

from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import expect
from rest_framework.authtoken.models import Token

from accounts.tests.browser import log_in as form_log_in
from accounts.tests.browser import save_screenshot
from accounts.tests.factories import PASSWORD, make_user
from recognition import services

from .conftest import sample

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
VIEWPORTS = [(2560, 1801), (1366, 768), (768, 630), (375, 667)]
# Long enough to overflow a phone's card unless it wraps.
EMAIL = "a.very.long.address.for.testing.wrapping@an-organisation-with-a-long-name.example.com"


@pytest.fixture
def reader(db):
    """A user with a token (the profile shows Replace and Revoke) and a reading done: its result page and
    history have something to show."""
    user = make_user(email=EMAIL)
    Token.objects.create(user=user)
    prediction = services.create_prediction(user, services.check_image("seven.png", sample("canvas_7.png")))
    services.run_predictions([prediction.pk])
    return user, prediction


def open_page(page, url, name, size):
    page.goto(url)
    page.wait_for_load_state("load")
    width = size[0]
    assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{name} scrolls sideways at {width}"
    save_screenshot(page, SCREENSHOTS / f"{name}-{size[0]}x{size[1]}.png", full_page=True)


@pytest.mark.parametrize("size", VIEWPORTS, ids=[f"{w}x{h}" for w, h in VIEWPORTS])
def test_every_page_fits_and_is_saved(live_server, browser, reader, size):
    _, prediction = reader
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    page = context.new_page()
    page.set_default_timeout(10_000)
    for name, path in [("home-anonymous", "home"), ("signup", "signup"), ("login", "login")]:
        open_page(page, live_server.url + reverse(path), name, size)
    page.fill("input[name=username]", EMAIL)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main").get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Your profile").wait_for()
    pages = [
        ("home", reverse("home")), ("draw", reverse("draw")), ("upload", reverse("upload")),
        ("result", reverse("prediction-detail", args=[prediction.pk])), ("history", reverse("history")),
        ("history-bad-filters", reverse("history") + "?digit=abc&date_from=notadate"),
        ("profile", reverse("profile")),
    ]
    for name, path in pages:
        open_page(page, live_server.url + path, name, size)
    context.close()


def test_the_phone_menu_works_from_the_keyboard(live_server, page):
    page.set_viewport_size({"width": 375, "height": 667})
    page.goto(live_server.url + "/")
    page.wait_for_load_state("load")
    button = page.get_by_role("button", name="Menu")
    links = page.locator("#nav-links")
    expect(links).to_be_hidden()
    page.keyboard.press("Tab")  # the skip link
    page.keyboard.press("Tab")  # the brand link
    page.keyboard.press("Tab")
    expect(button).to_be_focused()
    expect(button).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("Enter")
    expect(button).to_have_attribute("aria-expanded", "true")
    expect(links.get_by_role("link", name="Log in")).to_be_visible()
    page.keyboard.press("Tab")
    expect(links.get_by_role("link", name="Log in")).to_be_focused()
    page.keyboard.press("Escape")  # closes, and gives the focus back to the button
    expect(links).to_be_hidden()
    expect(button).to_be_focused()


def test_without_javascript_the_phone_menu_stays_open(live_server, browser):
    context = browser.new_context(viewport={"width": 375, "height": 667}, java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server.url + "/")
    expect(page.locator("#nav-links").get_by_role("link", name="Log in")).to_be_visible()
    expect(page.get_by_role("button", name="Menu")).to_be_hidden()
    context.close()


def log_in(page, live_server):
    form_log_in(page, live_server, EMAIL)


def test_layout_findings(live_server, page, reader, tmp_path):
    log_in(page, live_server)
    # Phone: the e-mail wraps inside its card; Revoke looks unlike Replace.
    page.set_viewport_size({"width": 375, "height": 667})
    page.goto(live_server.url + reverse("profile"))
    email = page.locator(".facts dd").first.bounding_box()
    card = page.locator(".card").first.bounding_box()
    assert email["x"] + email["width"] <= card["x"] + card["width"]
    background = "el => getComputedStyle(el).backgroundColor"
    replace = page.get_by_role("button", name="Replace it with a new token").evaluate(background)
    revoke = page.get_by_role("button", name="Revoke").evaluate(background)
    assert revoke != replace and revoke == "rgb(179, 38, 30)"  # --bad

    # A long file name ends in an ellipsis on one line, and is whole in its title.
    name = "a-scan-of-the-cheque-with-a-very-long-file-name-from-the-scanner-0042.png"
    (tmp_path / name).write_bytes(sample("canvas_2.png"))
    page.goto(live_server.url + reverse("upload"))
    page.wait_for_load_state("load")
    page.locator("input[type=file]").set_input_files(str(tmp_path / name))
    caption = page.locator("#previews li span")
    expect(caption).to_have_attribute("title", name)
    assert caption.evaluate("el => el.scrollWidth > el.clientWidth")  # cut, not wrapped
    assert caption.bounding_box()["height"] < 20

    # Wide screen: the four home cards in one row; history in several columns.
    page.set_viewport_size({"width": 2560, "height": 1801})
    page.goto(live_server.url + reverse("home"))
    tops = {round(card.bounding_box()["y"]) for card in page.locator(".guide .card").all()}
    assert len(tops) == 1
    assert page.locator("main").bounding_box()["width"] > 1400
    services.create_prediction(reader[0], services.check_image("three.jpg", sample("scan_3.jpg")))
    page.goto(live_server.url + reverse("history"))
    items = page.locator(".history-item")
    expect(items).to_have_count(2)
    assert items.nth(0).bounding_box()["y"] == items.nth(1).bounding_box()["y"]
    # A laptop: two by two, no lone card.
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(live_server.url + reverse("home"))
    tops = [round(card.bounding_box()["y"]) for card in page.locator(".guide .card").all()]
    assert len(set(tops)) == 2 and tops.count(tops[0]) == 2
