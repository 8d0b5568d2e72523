"""The organization page: members for every official, actions and settings for its administrators."""

import pytest
from django.urls import reverse

from accounts.models import MembershipEvent, Organization
from batches.models import Batch
from batches.services import acceptance_threshold, create_batch
from batches.tests.conftest import digit_files
from recognition.tests.conftest import media_root  # noqa: F401 (autouse: images in a temporary folder)

from .factories import make_user


def test_officials_see_their_members_only(client, admin, member, other_admin):
    client.force_login(member)
    response = client.get(reverse("organization"))
    page = response.content.decode()
    assert response.status_code == 200
    assert admin.email in page and member.email in page and other_admin.email not in page
    # A member who is not an administrator sees no forms of theirs.
    assert reverse("organization-invite") not in page and reverse("organization-settings") not in page
    assert 'href="/organization/"' in page  # the menu link


def test_others_get_404_or_the_log_in_page(client, db):
    response = client.get(reverse("organization"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    client.force_login(make_user("plain@example.com"))
    assert client.get(reverse("organization")).status_code == 404
    assert 'href="/organization/"' not in client.get(reverse("profile")).content.decode()


def test_the_admin_sees_the_thresholds_in_force_and_their_defaults(client, admin):
    client.force_login(admin)
    response = client.get(reverse("organization"))
    rows = response.context["thresholds"]
    expected = [acceptance_threshold(Organization(), kind) for kind in Batch.Kind.values]
    assert [default for _, _, default in rows] == expected
    assert [in_force for _, in_force, _ in rows] == expected
    assert f"{expected[-1]:.4f}" in response.content.decode()


def test_the_threshold_set_is_used_by_new_batches(client, admin):
    client.force_login(admin)
    response = client.post(reverse("organization-settings"), {"auto_accept_threshold": "0.97"})
    assert response.status_code == 302
    admin.organization.refresh_from_db()
    assert admin.organization.auto_accept_threshold == 0.97
    admin.refresh_from_db()
    assert create_batch(admin, "cheques", Batch.Kind.DIGIT, digit_files(3)).threshold == 0.97
    rows = client.get(reverse("organization")).context["thresholds"]
    assert [in_force for _, in_force, _ in rows] == [0.97] * 3
    assert MembershipEvent.objects.get().detail == "auto-accept threshold: default -> 0.97"
    # Empty: back to the defaults.
    client.post(reverse("organization-settings"), {"auto_accept_threshold": ""})
    admin.refresh_from_db()
    new = create_batch(admin, "more", Batch.Kind.DIGIT, digit_files(4))
    assert new.threshold == acceptance_threshold(Organization(), Batch.Kind.DIGIT)


@pytest.mark.parametrize("value, message", [
    ("0.4", "greater than or equal to 0.5"), ("1.5", "less than or equal to 1.0"), ("high", "Enter a number"),
])
def test_a_threshold_out_of_range_is_refused(client, admin, value, message):
    client.force_login(admin)
    response = client.post(reverse("organization-settings"), {"auto_accept_threshold": value})
    assert response.status_code == 400
    assert message in response.content.decode()
    admin.organization.refresh_from_db()
    assert admin.organization.auto_accept_threshold is None and not MembershipEvent.objects.exists()


def test_only_admins_change_the_settings(client, member, other_admin):
    for someone in (member, other_admin):
        client.force_login(someone)
        client.post(reverse("organization-settings"), {"auto_accept_threshold": "0.6"})
    member.organization.refresh_from_db()
    assert member.organization.auto_accept_threshold is None
    client.force_login(member)
    assert client.post(reverse("organization-settings"), {"auto_accept_threshold": "0.6"}).status_code == 404


def test_the_audit_trail_is_read_only_in_the_admin_site(client, admin, member):
    client.force_login(admin)
    client.post(reverse("member-action", args=[member.pk, "make-admin"]))
    event = MembershipEvent.objects.get()
    client.force_login(make_user("staff@digits.example", is_staff=True, is_superuser=True))
    assert client.get(reverse("admin:accounts_membershipevent_changelist")).status_code == 200
    assert client.get(reverse("admin:accounts_membershipevent_add")).status_code == 403
    assert client.post(reverse("admin:accounts_membershipevent_delete", args=[event.pk])).status_code == 403
    page = client.get(reverse("admin:accounts_membershipevent_change", args=[event.pk])).content.decode()
    assert 'name="action"' not in page
