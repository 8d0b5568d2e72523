import re

import pytest
from django.contrib.auth import get_user
from django.core import mail
from django.urls import reverse
from rest_framework.authtoken.models import Token

from accounts.models import Organization, User

from .factories import PASSWORD, make_official, make_user

pytestmark = pytest.mark.django_db


def login(client, email, password=PASSWORD, **extra):
    return client.post(reverse("login"), {"username": email, "password": password}, **extra)


def test_sign_up_creates_the_account_and_signs_in(client):
    response = client.post(
        reverse("signup"),
        {"email": "New.Person@Example.com", "full_name": "New Person",
         "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("profile")
    user = User.objects.get()
    assert user.email == "new.person@example.com"
    assert user.role == User.Role.USER
    assert get_user(client) == user


def test_sign_up_refuses_an_address_taken_in_another_case(client):
    make_user(email="ada@example.com")
    response = client.post(
        reverse("signup"),
        {"email": "ADA@Example.com", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 200
    assert "A user with this e-mail address already exists." in response.content.decode()
    assert User.objects.count() == 1


def test_sign_up_refuses_weak_and_mismatched_passwords(client):
    weak = client.post(reverse("signup"), {"email": "a@example.com", "password1": "123", "password2": "123"})
    assert "This password is too short" in weak.content.decode()
    mismatch = client.post(
        reverse("signup"), {"email": "a@example.com", "password1": PASSWORD, "password2": PASSWORD + "x"}
    )
    assert "The two password fields" in mismatch.content.decode()
    assert not User.objects.exists()


def test_login_by_email_in_any_case(client):
    user = make_user(email="ada@example.com")
    response = login(client, "ADA@EXAMPLE.com")
    assert response.status_code == 302
    assert get_user(client) == user


def test_wrong_password_is_refused_with_a_message(client):
    make_user(email="ada@example.com")
    response = login(client, "ada@example.com", "not-the-password")
    assert response.status_code == 200
    assert "Please enter a correct e-mail address and password" in response.content.decode()
    assert not get_user(client).is_authenticated


def test_login_is_throttled_after_repeated_failures(client, settings):
    make_user(email="ada@example.com")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert login(client, "ada@example.com", "wrong").status_code == 200
    # Case variants count against the same address.
    locked = login(client, "ADA@example.com", "wrong")
    assert locked.status_code == 429
    assert "Too many failed log-in attempts" in locked.content.decode()
    # Locked out now even with the right password.
    assert login(client, "ada@example.com").status_code == 429
    assert not get_user(client).is_authenticated


def test_other_accounts_are_not_locked_by_someone_elses_failures(client, settings):
    make_user(email="ada@example.com")
    make_user(email="grace@example.com")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, "ada@example.com", "wrong")
    assert login(client, "grace@example.com").status_code == 302


def test_password_reset_by_email(client):
    user = make_user(email="ada@example.com")
    response = client.post(reverse("password_reset"), {"email": "Ada@Example.com"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ada@example.com"]
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", message.body).group(1)

    form_page = client.get(link, follow=True)
    assert "Choose a new password" in form_page.content.decode()
    new_password = "a-brand-new-secret-42"
    done = client.post(
        form_page.redirect_chain[-1][0] if form_page.redirect_chain else link,
        {"new_password1": new_password, "new_password2": new_password},
    )
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password(new_password)
    # The link works once only.
    assert "This link no longer works" in client.get(link, follow=True).content.decode()


def test_password_reset_does_not_reveal_unknown_addresses(client):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.com"})
    assert response.status_code == 302
    assert mail.outbox == []


def test_password_change(client):
    user = make_user()
    client.force_login(user)
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "another-long-pass-9", "new_password2": "another-long-pass-9"},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("another-long-pass-9")


def test_logout_needs_post_and_ends_the_session(client):
    client.force_login(make_user())
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert not get_user(client).is_authenticated


def test_profile_needs_login(client):
    response = client.get(reverse("profile"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_profile_shows_role_and_organization_and_saves_the_name(client):
    official = make_official(email="clerk@bank.example")
    client.force_login(official)
    page = client.get(reverse("profile")).content.decode()
    assert "clerk@bank.example" in page
    assert "Bank official" in page and "First Bank" in page
    client.post(reverse("profile"), {"full_name": "Clara Clerk"})
    official.refresh_from_db()
    assert official.full_name == "Clara Clerk"


def test_admin_manages_users_roles_and_organizations(admin_client):
    bank = Organization.objects.create(name="Second Bank")
    assert admin_client.get(reverse("admin:accounts_user_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:accounts_organization_changelist")).status_code == 200

    refused = admin_client.post(
        reverse("admin:accounts_user_add"),
        {"email": "teller@bank.example", "role": "official", "organization": "",
         "usable_password": "true", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert refused.status_code == 200
    assert "A bank official must belong to an organization." in refused.content.decode()

    created = admin_client.post(
        reverse("admin:accounts_user_add"),
        {"email": "Teller@Bank.example", "role": "official", "organization": bank.pk,
         "usable_password": "true", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert created.status_code == 302
    teller = User.objects.get(email="teller@bank.example")
    assert teller.is_official and teller.organization == bank


def test_api_token_is_created_shown_replaced_and_revoked_from_the_profile(client):
    user = make_user()
    client.force_login(user)
    assert "You have no API token" in client.get(reverse("profile")).content.decode()

    assert client.post(reverse("api-token-issue")).status_code == 302
    first = Token.objects.get(user=user).key
    assert first in client.get(reverse("profile")).content.decode()

    client.post(reverse("api-token-issue"))
    second = Token.objects.get(user=user).key
    assert second != first

    client.post(reverse("api-token-revoke"))
    assert not Token.objects.filter(user=user).exists()
    assert second not in client.get(reverse("profile")).content.decode()


def test_token_actions_need_login_and_post(client):
    assert client.post(reverse("api-token-issue")).status_code == 302
    client.force_login(make_user())
    assert client.get(reverse("api-token-issue")).status_code == 405


def test_log_in_and_sign_up_are_limited_per_ip_across_addresses(client, settings):
    settings.ACCOUNT_FORMS_THROTTLE = "5/hour"
    for number in range(3):
        assert login(client, f"user{number}@example.com", "wrong").status_code == 200
    for number in range(2):
        signup = client.post(reverse("signup"), {"email": f"new{number}@example.com", "password1": "1"})
        assert signup.status_code == 200
    for refused in (login(client, "user9@example.com", "wrong"),
                    client.post(reverse("signup"), {"email": "new9@example.com"})):
        assert refused.status_code == 429
        assert 0 < int(refused["Retry-After"]) <= 3600
        assert "Too many attempts from your network" in refused.content.decode()
    # Reading the forms is not limited; another address (IP) is counted on its own.
    assert client.get(reverse("login")).status_code == 200
    assert login(client, "user9@example.com", "wrong", REMOTE_ADDR="10.0.0.2").status_code == 200
