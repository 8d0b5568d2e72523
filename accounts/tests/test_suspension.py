"""Suspension: a suspended official can use neither a session nor an API token until reinstated."""

import pytest
from django.contrib.auth import get_user
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.authentication import TokenAuthentication
from accounts.models import MembershipEvent
from accounts.services import issue_api_token, suspend_member

from .factories import PASSWORD, make_official, make_user, token_api_client

API = "/api/v1/predictions/"


def act(client, actor, member, action):
    client.force_login(actor)
    return client.post(reverse("member-action", args=[member.pk, action]))


def test_a_suspended_officials_token_is_refused_until_reinstated(client, admin, member):
    token = issue_api_token(member)
    api = token_api_client(token.key)
    assert api.get(API).status_code == 200
    assert act(client, admin, member, "suspend").status_code == 302
    response = api.get(API)
    assert response.status_code == 401
    assert response.json() == {"status": 401, "code": "authentication_failed",
                               "message": "This account is suspended.", "errors": {}}
    act(client, admin, member, "reinstate")
    assert api.get(API).status_code == 200
    assert list(MembershipEvent.objects.filter(subject=member).values_list("action", flat=True)) == [
        "reinstated", "suspended"]


def test_a_suspended_official_is_logged_out_and_cannot_log_in(client, admin, member):
    response = client.post(reverse("login"), {"username": member.email, "password": PASSWORD})
    assert response.status_code == 302 and get_user(client) == member
    suspend_member(admin, member)
    # The session held is refused on its next request.
    assert client.get(reverse("organization"))["Location"].startswith(reverse("login"))
    assert not get_user(client).is_authenticated
    refused = client.post(reverse("login"), {"username": member.email, "password": PASSWORD})
    assert refused.status_code == 200 and not get_user(client).is_authenticated
    # And an API token is not handed out either.
    assert client.post("/api/v1/auth/token/", {"email": member.email, "password": PASSWORD},
                       content_type="application/json").status_code == 400


def test_the_token_check_still_reads_its_owner_in_one_query(member, django_assert_num_queries):
    token = issue_api_token(member)
    with django_assert_num_queries(1):
        user, auth = TokenAuthentication().authenticate_credentials(token.key)
    assert (user, auth.key) == (member, token.key)


@pytest.mark.parametrize("action", ["suspend", "make-admin"])
def test_only_the_organizations_admins_act_on_members(client, admin, member, other_admin, action):
    colleague = make_official("colleague@first.example", organization=admin.organization)
    for someone in (colleague, other_admin, make_user("plain@example.com")):
        assert act(client, someone, member, action).status_code == 404
    member.refresh_from_db()
    assert member.suspended_at is None and not member.is_org_admin


def test_a_member_of_another_organization_is_not_found(client, admin, other_admin):
    assert act(client, admin, other_admin, "suspend").status_code == 404
    other_admin.refresh_from_db()
    assert other_admin.suspended_at is None


def test_the_last_admin_is_kept(client, admin, member):
    response = act(client, admin, admin, "suspend")
    assert response.status_code == 302
    admin.refresh_from_db()
    assert admin.suspended_at is None and admin.is_org_admin
    assert "last administrator" in client.get(reverse("organization")).content.decode()
    act(client, admin, admin, "remove-admin")
    admin.refresh_from_db()
    assert admin.is_org_admin
    # With a second administrator, the first may step down.
    act(client, admin, member, "make-admin")
    act(client, admin, admin, "remove-admin")
    admin.refresh_from_db()
    member.refresh_from_db()
    assert member.is_org_admin and not admin.is_org_admin


def test_a_non_official_cannot_be_an_admin(db):
    user = make_user("plain@example.com", is_org_admin=False)
    user.is_org_admin = True
    with pytest.raises(ValidationError, match="Only a bank official can administer"):
        user.full_clean()


def test_staff_suspend_from_the_admin_site(client, admin, member):
    client.force_login(make_user("staff@digits.example", is_staff=True, is_superuser=True))
    client.post(reverse("admin:accounts_user_changelist"),
                {"action": "suspend", "_selected_action": [member.pk]})
    member.refresh_from_db()
    assert member.suspended_at is not None
    assert MembershipEvent.objects.get().action == "suspended"


def test_the_admin_site_says_why_a_user_was_not_suspended(client, member):
    plain = make_user("plain@example.com")
    client.force_login(make_user("staff@digits.example", is_staff=True, is_superuser=True))
    response = client.post(reverse("admin:accounts_user_changelist"),
                           {"action": "suspend", "_selected_action": [plain.pk, member.pk]}, follow=True)
    assert [str(message) for message in response.context["messages"]] == [
        "plain@example.com: not an official of an organization.", "1 suspended."]
    plain.refresh_from_db()
    member.refresh_from_db()
    assert plain.suspended_at is None and member.suspended_at is not None
