import pytest
from django.core import mail
from playwright.sync_api import expect

from accounts.models import User

from .conftest import link_in
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


def test_an_admin_invites_and_the_invited_person_signs_up_and_joins(live_server, page, browser, admin):
    page.goto(live_server.url + "/accounts/login/")
    page.fill("input[name=username]", admin.email)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Organization").click()
    page.get_by_role("heading", name="Invite an official").wait_for()
    page.get_by_label("E-mail address").fill("invited@example.com")
    page.get_by_role("button", name="Send the invitation").click()
    expect(page.locator(".messages")).to_contain_text("An invitation was e-mailed to invited@example.com")
    expect(page.locator("#invitations")).to_contain_text("invited@example.com")

    # The invited person, in a browser of their own.
    context = browser.new_context()
    invited = context.new_page()
    invited.goto(live_server.url + link_in(mail.outbox[0]))
    invited.get_by_role("heading", name="Join First Bank").wait_for()
    expect(invited.get_by_label("E-mail address")).to_be_disabled()
    expect(invited.get_by_label("E-mail address")).to_have_value("invited@example.com")
    invited.get_by_label("Full name").fill("Invited Person")
    invited.locator("input[name=password1]").fill(PASSWORD)
    invited.locator("input[name=password2]").fill(PASSWORD)
    invited.get_by_role("button", name="Sign up and join").click()
    expect(invited.locator(".messages")).to_contain_text("Welcome to First Bank")
    expect(invited.locator("#members")).to_contain_text("invited@example.com")
    context.close()
    user = User.objects.get(email="invited@example.com")
    assert (user.role, user.organization) == (User.Role.OFFICIAL, admin.organization)

    page.reload()
    expect(page.locator("#members")).to_contain_text("invited@example.com")
    expect(page.locator("#invitations")).to_have_count(0)  # no open invitation left
