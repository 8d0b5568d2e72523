"""Invitations: a signed, single-use, expiring link e-mailed by an organization's administrator."""

import re
import time
from unittest import mock
from urllib.parse import unquote

import pytest
from django.contrib.auth import get_user
from django.core import mail, signing
from django.urls import reverse

from accounts.models import Invitation, MembershipEvent, User
from accounts.selectors import INVITATION_SALT

from .conftest import link_in
from .factories import PASSWORD, make_official, make_user

DAY = 86400


def invite(client, admin, email):
    client.force_login(admin)
    response = client.post(reverse("organization-invite"), {"email": email})
    client.logout()
    return response


def test_an_admin_invites_and_the_mail_holds_a_link(client, admin):
    response = invite(client, admin, "New@Example.com")
    assert response.status_code == 302
    invitation = Invitation.objects.get()
    assert (invitation.email, invitation.organization, invitation.invited_by) == (
        "new@example.com", admin.organization, admin)
    assert [m.to for m in mail.outbox] == [["new@example.com"]]
    assert "First Bank" in mail.outbox[0].subject
    assert signing.loads(link_in(mail.outbox[0]).split("/")[-2], salt=INVITATION_SALT) == invitation.pk
    assert MembershipEvent.objects.filter(action="invited", actor=admin, detail="new@example.com").exists()


def test_the_invited_user_joins_once_and_a_second_use_is_refused(client, admin, newcomer):
    invite(client, admin, newcomer.email)
    link = link_in(mail.outbox[0])
    client.force_login(newcomer)
    assert "Join First Bank" in client.get(link).content.decode()
    response = client.post(link, follow=True)
    assert response.redirect_chain == [(reverse("organization"), 302)]
    assert "Welcome to First Bank" in response.content.decode()
    newcomer.refresh_from_db()
    assert (newcomer.role, newcomer.organization) == (User.Role.OFFICIAL, admin.organization)
    assert Invitation.objects.get().accepted_by == newcomer

    again = client.post(link)
    assert again.status_code == 400
    assert "already been used" in again.content.decode()


@pytest.mark.parametrize("age_days, max_age_days, works", [(6, 7, True), (8, 7, False), (2, 1, False)])
def test_a_link_expires_after_invitation_max_age_days(client, settings, admin, newcomer,
                                                      age_days, max_age_days, works):
    settings.INVITATION_MAX_AGE_DAYS = max_age_days
    with mock.patch("django.core.signing.time.time", return_value=time.time() - age_days * DAY):
        invite(client, admin, newcomer.email)
    client.force_login(newcomer)
    response = client.post(link_in(mail.outbox[0]))
    newcomer.refresh_from_db()
    assert newcomer.is_official is works
    if not works:
        assert response.status_code == 400
        assert "This invitation has expired" in response.content.decode()


def test_a_tampered_link_is_refused(client, admin, newcomer, bank):
    invite(client, admin, newcomer.email)
    link = link_in(mail.outbox[0])
    token = link.split("/")[-2]
    # Another invitation's id under the first one's signature, and a signature changed by one character.
    other = Invitation.objects.create(organization=bank, email=newcomer.email)
    forged = signing.dumps(other.pk, salt=INVITATION_SALT).split(":")[0] + ":" + token.split(":", 1)[1]
    changed = token[:-1] + ("A" if token[-1] != "A" else "B")
    client.force_login(newcomer)
    for bad in (forged, changed, "nonsense"):
        response = client.post(reverse("invitation-accept", args=[bad]))
        assert response.status_code == 400
        assert "This invitation link is not valid" in response.content.decode()
    newcomer.refresh_from_db()
    assert not newcomer.is_official


def test_a_revoked_invitation_is_refused(client, admin, newcomer):
    invite(client, admin, newcomer.email)
    client.force_login(admin)
    client.post(reverse("invitation-revoke", args=[Invitation.objects.get().pk]))
    client.force_login(newcomer)
    response = client.post(link_in(mail.outbox[0]))
    assert response.status_code == 400
    assert "withdrawn" in response.content.decode()
    newcomer.refresh_from_db()
    assert not newcomer.is_official


def test_inviting_an_address_again_revokes_the_first_link(client, admin, newcomer):
    invite(client, admin, newcomer.email)
    invite(client, admin, newcomer.email)
    first, second = (link_in(message) for message in mail.outbox)
    client.force_login(newcomer)
    assert client.post(first).status_code == 400
    assert client.post(second).status_code == 302
    newcomer.refresh_from_db()
    assert newcomer.is_official


def test_a_user_with_another_address_cannot_use_the_link(client, admin, newcomer):
    invite(client, admin, "someone.else@example.com")
    client.force_login(newcomer)
    link = link_in(mail.outbox[0])
    assert "You are signed in as new@example.com" in client.get(link).content.decode()
    response = client.post(link)
    assert response.status_code == 400
    assert "This invitation is for someone.else@example.com" in response.content.decode()
    newcomer.refresh_from_db()
    assert not newcomer.is_official and Invitation.objects.get().accepted_at is None


def test_an_official_of_another_organization_is_not_moved(client, admin, other_admin):
    invite(client, admin, other_admin.email)
    client.force_login(other_admin)
    response = client.post(link_in(mail.outbox[0]))
    assert response.status_code == 400
    assert "already an official of Second Bank" in response.content.decode()
    other_admin.refresh_from_db()
    assert other_admin.organization.name == "Second Bank"


def test_an_anonymous_visitor_signs_up_with_the_invited_address(client, admin):
    invite(client, admin, "fresh@example.com")
    link = link_in(mail.outbox[0])
    page = client.get(link).content.decode()
    assert 'value="fresh@example.com"' in page and "disabled" in page
    # The address field is locked: whatever is posted for it, the invited one is used.
    response = client.post(link, {"email": "evil@example.com", "full_name": "Fresh Person",
                                  "password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 302
    user = User.objects.get(email="fresh@example.com")
    assert (user.role, user.organization) == (User.Role.OFFICIAL, admin.organization)
    assert user.full_name == "Fresh Person"
    assert get_user(client) == user
    assert not User.objects.filter(email="evil@example.com").exists()


def test_an_anonymous_visitor_with_an_account_is_sent_to_log_in_and_back(client, admin, newcomer):
    invite(client, admin, newcomer.email)
    link = link_in(mail.outbox[0])
    page = client.get(link).content.decode()
    login_link = re.search(r'href="(/accounts/login/\?next=[^"]+)"', page).group(1)
    assert unquote(login_link) == f'{reverse("login")}?next={link}'
    response = client.post(reverse("login"), {"username": newcomer.email, "password": PASSWORD, "next": link})
    assert response["Location"] == link
    assert client.post(link).status_code == 302


def test_an_existing_member_is_not_invited(client, admin, member):
    response = invite(client, admin, member.email)
    assert response.status_code == 400
    assert "already a member of First Bank" in response.content.decode()
    assert not Invitation.objects.exists() and not mail.outbox


def test_no_invitation_is_kept_when_the_mail_cannot_be_sent(client, admin):
    with mock.patch("accounts.services.invitations.send_mail", side_effect=OSError("connection refused")):
        response = invite(client, admin, "fresh@example.com")
    assert response.status_code == 400
    assert "could not be e-mailed" in response.content.decode()
    assert not Invitation.objects.exists() and not MembershipEvent.objects.exists()


def test_only_the_organizations_admins_invite_and_revoke(client, admin, member, other_admin, newcomer):
    invite(client, admin, "fresh@example.com")
    invitation = Invitation.objects.get()
    for someone in (member, newcomer):
        client.force_login(someone)
        assert client.post(reverse("organization-invite"), {"email": "x@example.com"}).status_code == 404
        assert client.post(reverse("invitation-revoke", args=[invitation.pk])).status_code == 404
    assert Invitation.objects.count() == 1
    # Another bank's administrator invites to their own bank only, and cannot touch this one's invitations.
    client.force_login(other_admin)
    assert client.post(reverse("invitation-revoke", args=[invitation.pk])).status_code == 404
    client.post(reverse("organization-invite"), {"email": "x@example.com"})
    assert Invitation.objects.get(email="x@example.com").organization == other_admin.organization
    invitation.refresh_from_db()
    assert invitation.revoked_at is None


def test_staff_invite_from_the_admin_site(client, bank):
    staff = make_user("staff@digits.example", is_staff=True, is_superuser=True)
    client.force_login(staff)
    response = client.post(reverse("admin:accounts_invitation_add"),
                           {"organization": bank.pk, "email": "fresh@example.com"})
    assert response.status_code == 302
    invitation = Invitation.objects.get()
    assert (invitation.email, invitation.invited_by) == ("fresh@example.com", staff)
    assert link_in(mail.outbox[0])
    response = client.post(reverse("admin:accounts_invitation_changelist"),
                           {"action": "revoke", "_selected_action": [invitation.pk]})
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None


def test_the_admin_site_tells_why_an_invitation_was_refused(client, bank):
    make_official("clerk@first.example", organization=bank)
    client.force_login(make_user("staff@digits.example", is_staff=True, is_superuser=True))
    response = client.post(reverse("admin:accounts_invitation_add"),
                           {"organization": bank.pk, "email": "clerk@first.example"}, follow=True)
    assert "already a member of First Bank" in response.content.decode()
    assert not Invitation.objects.exists()


def test_a_refused_sign_up_leaves_the_invitation_unused(client, admin):
    invite(client, admin, "fresh@example.com")
    response = client.post(link_in(mail.outbox[0]), {"password1": "123", "password2": "123"})
    assert response.status_code == 400
    assert "This password is too short" in response.content.decode()
    assert not User.objects.filter(email="fresh@example.com").exists()
    assert Invitation.objects.get().accepted_at is None


def test_the_page_lists_the_organizations_own_invitations_only(client, admin, other_admin):
    invite(client, admin, "ours@example.com")
    invite(client, other_admin, "theirs@example.com")
    client.force_login(admin)
    page = client.get(reverse("organization")).content.decode()
    assert "ours@example.com" in page and "theirs@example.com" not in page
