"""Browser-test steps that several apps' tests share."""

from playwright.sync_api import Error as PlaywrightError

from .factories import PASSWORD


def log_in(page, live_server, email):
    """Log in through the real form as the user with this e-mail (made with the factories' PASSWORD)."""
    page.goto(live_server.url + "/accounts/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main").get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Your profile").wait_for()


def save_screenshot(page, path, **options):
    """A screenshot kept as a test artifact. Chromium now and then refuses one capture ("Unable to capture
    screenshot", most often the first after a cold start) and takes the same picture when asked again, so it is asked
    once more rather than failing the checks the test makes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        page.screenshot(path=path, **options)
    except PlaywrightError as error:
        if "Unable to capture screenshot" not in str(error):
            raise
        page.wait_for_timeout(250)
        page.screenshot(path=path, **options)
