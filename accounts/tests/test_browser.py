import pytest

from accounts.models import User

from .factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_new_user_signs_up_logs_out_and_logs_back_in(live_server, page):
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Sign up").first.click()
    page.get_by_label("E-mail address").fill("Browser.User@Example.com")
    page.get_by_label("Full name").fill("Browser User")
    page.locator("input[name=password1]").fill(PASSWORD)
    page.locator("input[name=password2]").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()

    page.get_by_role("heading", name="Your profile").wait_for()
    assert "browser.user@example.com" in page.content()
    assert User.objects.filter(email="browser.user@example.com").exists()

    page.get_by_role("button", name="Log out").click()
    page.get_by_role("link", name="Log in").first.click()
    page.get_by_label("E-mail address").fill("BROWSER.USER@example.com")
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Your profile").wait_for()
    assert page.get_by_role("link", name="Browser").is_visible()


def test_navigation_fits_a_phone_screen(live_server, page):
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(live_server.url + "/accounts/login/")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375
    menu = page.locator("nav .nav-links")
    assert not menu.is_visible()
    page.get_by_role("button", name="Menu").click()
    assert menu.get_by_role("link", name="Sign up").is_visible()
