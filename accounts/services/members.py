"""Members: who becomes an official, suspension and the organization's administrators."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext

from ..models import MembershipEvent, User
from .common import record, require_admin_of

Action = MembershipEvent.Action


def make_official(user, organization):
    """Part of accepting an invitation or a join request (inside their transaction): ``user`` becomes an
    official of ``organization``. An official of another organization is never moved silently."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.is_official:
        if user.organization_id == organization.pk:
            raise ValidationError(gettext("%(email)s is already a member of %(organization)s."),
                                  code="member", params={"email": user.email, "organization": organization})
        raise ValidationError(
            gettext("%(email)s is already an official of %(organization)s. An official belongs to one "
                    "organization: staff must take them out of it first."), code="other_organization",
            params={"email": user.email, "organization": user.organization},
        )
    user.role, user.organization = User.Role.OFFICIAL, organization
    user.save(update_fields=["role", "organization"])
    return user


def _member_for(actor, member):
    """The member, locked, once the actor may act on them; a non-member is not found."""
    if not (member.is_official and member.organization_id):
        raise Http404("No such member.")
    require_admin_of(actor, member.organization)
    return User.objects.select_for_update(of=("self",)).select_related("organization").get(pk=member.pk)


def _keep_an_admin(member, refusal):
    """Refuse to leave the organization without an active administrator; ``refusal`` says so, with
    %(email)s and %(organization)s."""
    others = User.objects.filter(
        organization_id=member.organization_id, role=User.Role.OFFICIAL, is_org_admin=True,
        suspended_at=None, is_active=True,
    ).exclude(pk=member.pk)
    if member.is_org_admin and not member.is_suspended and not others.exists():
        raise ValidationError(refusal, code="last_admin",
                              params={"email": member.email, "organization": member.organization})


def suspend_member(actor, member):
    """Suspended officials can neither log in nor use their session or API token until reinstated."""
    with transaction.atomic():
        member = _member_for(actor, member)
        if member.is_suspended:
            raise ValidationError(gettext("%(email)s is already suspended."), code="suspended",
                                  params={"email": member.email})
        _keep_an_admin(member, gettext(
            "%(email)s is the last administrator of %(organization)s, who cannot be suspended: "
            "make another member administrator first."))
        member.suspended_at = timezone.now()
        member.save(update_fields=["suspended_at"])
        record(actor, member.organization, Action.SUSPENDED, subject=member)
    return member


def reinstate_member(actor, member):
    with transaction.atomic():
        member = _member_for(actor, member)
        if not member.is_suspended:
            raise ValidationError(gettext("%(email)s is not suspended."), code="not_suspended",
                                  params={"email": member.email})
        member.suspended_at = None
        member.save(update_fields=["suspended_at"])
        record(actor, member.organization, Action.REINSTATED, subject=member)
    return member


def grant_org_admin(actor, member):
    with transaction.atomic():
        member = _member_for(actor, member)
        if member.is_org_admin:
            raise ValidationError(gettext("%(email)s is already an administrator."), code="admin",
                                  params={"email": member.email})
        member.is_org_admin = True
        member.save(update_fields=["is_org_admin"])
        record(actor, member.organization, Action.ADMIN_GRANTED, subject=member)
    return member


def revoke_org_admin(actor, member):
    with transaction.atomic():
        member = _member_for(actor, member)
        if not member.is_org_admin:
            raise ValidationError(gettext("%(email)s is not an administrator."), code="not_admin",
                                  params={"email": member.email})
        _keep_an_admin(member, gettext(
            "%(email)s is the last administrator of %(organization)s, who cannot be removed as "
            "administrator: make another member administrator first."))
        member.is_org_admin = False
        member.save(update_fields=["is_org_admin"])
        record(actor, member.organization, Action.ADMIN_REVOKED, subject=member)
    return member
