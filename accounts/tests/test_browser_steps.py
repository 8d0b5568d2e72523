"""The shared browser steps' own logic, without a browser."""

import pytest
from playwright.sync_api import Error as PlaywrightError

from .browser import save_screenshot

REFUSED = "Page.screenshot: Protocol error (Page.captureScreenshot): Unable to capture screenshot"


class FlakyPage:
    """Refuses the first ``refusals`` captures with ``message``, as Chromium does now and then."""

    def __init__(self, refusals, message=REFUSED):
        self.refusals, self.message, self.captures = refusals, message, 0

    def screenshot(self, path, **options):
        self.captures += 1
        if self.captures <= self.refusals:
            raise PlaywrightError(self.message)
        path.write_bytes(b"png")

    def wait_for_timeout(self, milliseconds):
        pass


def test_a_refused_capture_is_asked_once_more(tmp_path):
    page = FlakyPage(refusals=1)
    save_screenshot(page, tmp_path / "shots" / "page.png", full_page=True)
    assert page.captures == 2 and (tmp_path / "shots" / "page.png").read_bytes() == b"png"


def test_a_capture_refused_twice_or_another_error_fails_the_test(tmp_path):
    with pytest.raises(PlaywrightError, match="Unable to capture"):
        save_screenshot(FlakyPage(refusals=2), tmp_path / "page.png")
    page = FlakyPage(refusals=1, message="Target page, context or browser has been closed")
    with pytest.raises(PlaywrightError, match="closed"):
        save_screenshot(page, tmp_path / "page.png")
    assert page.captures == 1
