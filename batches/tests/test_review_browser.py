"""In Chromium: an official clears a review queue with the keyboard only."""

import time

import pytest
from playwright.sync_api import expect

from accounts.tests.browser import log_in as form_log_in
from batches import selectors
from batches.models import BatchItem, ReviewAction

from .conftest import read_batch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
State = BatchItem.State


def log_in(page, live_server, user):
    form_log_in(page, live_server, user.email)


def on_item(page, position):
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Cheques · #{position}")
    expect(page.locator("#id_value")).to_be_focused()
    expect(page.locator("#review-form[data-keys=on]")).to_be_attached()  # review.js has run


def test_an_official_clears_the_queue_with_the_keyboard(live_server, page, official):
    _, items = read_batch(official, [("100", 0.2), ("200", 0.3), ("300", 0.4), ("400", 0.5)])
    log_in(page, live_server, official)
    page.goto(live_server.url + "/review/")
    page.get_by_role("link", name="Start reviewing").click()
    started = time.monotonic()

    on_item(page, 1)
    expect(page.locator("#id_value")).to_have_value("100")
    page.keyboard.press("Enter")  # accept as read
    on_item(page, 2)
    page.keyboard.type("2x50")  # typing replaces the reading; a letter that is no shortcut is dropped
    expect(page.locator("#id_value")).to_have_value("250")
    page.keyboard.press("Enter")  # corrects to what was typed
    on_item(page, 3)
    page.keyboard.press("r")  # reject
    on_item(page, 4)
    page.keyboard.press("u")  # undo the rejection: back to item 3
    on_item(page, 3)
    expect(page.locator("#item-state")).to_have_text("Needs review")
    page.keyboard.type("333")
    page.keyboard.press("Enter")
    on_item(page, 4)
    page.keyboard.press("k")  # previous: none left in the queue (1 to 3 are decided), so it stays
    on_item(page, 4)
    page.keyboard.press("Enter")
    expect(page.get_by_text("The queue is empty")).to_be_visible()
    elapsed = time.monotonic() - started

    states = [(selectors.state_of(item), BatchItem.objects.get(pk=item.pk).final_value) for item in items]
    assert states == [(State.ACCEPTED, "100"), (State.CORRECTED, "250"), (State.CORRECTED, "333"),
                      (State.ACCEPTED, "400")]
    assert list(ReviewAction.objects.order_by("pk").values_list("action", flat=True)) == [
        "accept", "correct", "reject", "undo", "correct", "accept"]
    print(f"\n6 keyboard actions over 4 items in {elapsed:.2f} s ({elapsed / 6:.2f} s per action)")


def test_j_and_arrows_move_without_deciding(live_server, page, official):
    _, items = read_batch(official, [("100", 0.2), ("200", 0.3)])
    log_in(page, live_server, official)
    page.goto(f"{live_server.url}/review/{items[0].pk}/")
    on_item(page, 1)
    page.keyboard.press("j")
    on_item(page, 2)
    page.keyboard.press("ArrowUp")
    on_item(page, 1)
    page.keyboard.press("ArrowDown")
    on_item(page, 2)
    assert not ReviewAction.objects.exists()
