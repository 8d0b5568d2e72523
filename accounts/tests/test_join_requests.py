"""Join requests: a user asks, the organization's administrators approve or decline."""

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import JoinRequest, MembershipEvent, User

from .factories import make_user


def ask(client, user, name="first bank", message="I work at the Main Street branch."):
    client.force_login(user)
    return client.post(reverse("organization-join"), {"organization": name, "message": message})


def test_a_user_asks_by_name_and_the_admins_are_told(client, admin, member, newcomer):
    response = ask(client, newcomer)
    assert response.status_code == 302
    join_request = JoinRequest.objects.get()
    assert (join_request.user, join_request.organization, join_request.status) == (
        newcomer, admin.organization, "pending")
    # Administrators only, not every member.
    assert [m.to for m in mail.outbox] == [[admin.email]]
    assert "Main Street" in mail.outbox[0].body
    assert "First Bank: pending" in client.get(reverse("organization-join")).content.decode()


def test_an_unknown_name_and_a_second_request_are_refused_with_a_message(client, admin, newcomer):
    unknown = ask(client, newcomer, name="Fist Bank")
    assert unknown.status_code == 400
    assert "There is no organization of that name" in unknown.content.decode()
    ask(client, newcomer)
    again = ask(client, newcomer)
    assert again.status_code == 400
    assert "already asked to join First Bank" in again.content.decode()
    assert JoinRequest.objects.count() == 1


def test_an_official_cannot_ask(client, admin, other_admin):
    response = ask(client, other_admin)
    assert response.status_code == 400
    assert "already an official of Second Bank" in response.content.decode()
    assert not JoinRequest.objects.exists()


def test_the_admin_approves_and_the_user_becomes_an_official(client, admin, newcomer):
    ask(client, newcomer)
    client.force_login(admin)
    page = client.get(reverse("organization")).content.decode()
    assert "new@example.com" in page and "Main Street" in page
    join_request = JoinRequest.objects.get()
    response = client.post(reverse("join-request-decide", args=[join_request.pk, "approve"]))
    assert response.status_code == 302
    newcomer.refresh_from_db()
    join_request.refresh_from_db()
    assert (newcomer.role, newcomer.organization) == (User.Role.OFFICIAL, admin.organization)
    assert (join_request.status, join_request.decided_by) == ("approved", admin)
    assert MembershipEvent.objects.filter(action="join_approved", actor=admin, subject=newcomer).exists()
    assert mail.outbox[-1].to == [newcomer.email] and "approved" in mail.outbox[-1].subject
    # Decided once.
    client.post(reverse("join-request-decide", args=[join_request.pk, "decline"]))
    join_request.refresh_from_db()
    assert join_request.status == "approved"


def test_the_admin_declines(client, admin, newcomer):
    ask(client, newcomer)
    client.force_login(admin)
    join_request = JoinRequest.objects.get()
    client.post(reverse("join-request-decide", args=[join_request.pk, "decline"]))
    newcomer.refresh_from_db()
    join_request.refresh_from_db()
    assert join_request.status == "declined" and not newcomer.is_official


@pytest.mark.parametrize("decision", ["approve", "decline"])
def test_only_that_organizations_admins_decide(client, admin, member, other_admin, newcomer, decision):
    ask(client, newcomer)
    join_request = JoinRequest.objects.get()
    for someone in (other_admin, member, newcomer):
        client.force_login(someone)
        response = client.post(reverse("join-request-decide", args=[join_request.pk, decision]))
        assert response.status_code == 404
    join_request.refresh_from_db()
    newcomer.refresh_from_db()
    assert join_request.status == "pending" and not newcomer.is_official


def test_approval_does_not_move_someone_who_joined_elsewhere_meanwhile(client, admin, other_bank, newcomer):
    ask(client, newcomer)
    User.objects.filter(pk=newcomer.pk).update(role=User.Role.OFFICIAL, organization=other_bank)
    client.force_login(admin)
    response = client.post(reverse("join-request-decide", args=[JoinRequest.objects.get().pk, "approve"]),
                           follow=True)
    assert "already an official of Second Bank" in response.content.decode()
    newcomer.refresh_from_db()
    assert newcomer.organization == other_bank and JoinRequest.objects.get().status == "pending"


def test_staff_approve_from_the_admin_site(client, admin, newcomer):
    ask(client, newcomer)
    client.force_login(make_user("staff@digits.example", is_staff=True, is_superuser=True))
    join_request = JoinRequest.objects.get()
    response = client.post(reverse("admin:accounts_joinrequest_changelist"),
                           {"action": "approve", "_selected_action": [join_request.pk]})
    assert response.status_code == 302
    newcomer.refresh_from_db()
    assert newcomer.organization == admin.organization
