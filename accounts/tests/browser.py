"""Browser-test steps that several apps' tests share."""

from .factories import PASSWORD


def log_in(page, live_server, email):
    """Log in through the real form as the user with this e-mail (made with the factories' PASSWORD)."""
    page.goto(live_server.url + "/accounts/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main").get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Your profile").wait_for()
