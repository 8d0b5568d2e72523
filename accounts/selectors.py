"""Reads of membership; what belongs to an organization is looked up within the reader's own (404 else)."""

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext

from .models import Invitation, JoinRequest, MembershipEvent, Organization, User

INVITATION_SALT = "accounts.invitation"


def is_official(user):
    """A signed-in bank official with an organization: who may reach batches, review and the organization."""
    return bool(user.is_authenticated and user.is_official and user.organization_id)


def is_org_admin(user):
    return bool(user.is_authenticated and user.is_official and user.organization_id and user.is_org_admin
                and not user.is_suspended)


def members_of(organization):
    return User.objects.filter(organization=organization, role=User.Role.OFFICIAL).order_by("email")


def open_invitations_of(organization):
    """Neither accepted nor revoked (expired ones too, marked by their state, so they can be revoked)."""
    return Invitation.objects.filter(
        organization=organization, accepted_at=None, revoked_at=None
    ).select_related("invited_by")


def pending_join_requests_of(organization):
    return JoinRequest.objects.filter(
        organization=organization, status=JoinRequest.Status.PENDING
    ).select_related("user")


def events_of(organization, limit=20):
    events = MembershipEvent.objects.filter(organization=organization)
    return events.select_related("actor", "subject")[:limit]


def member_of(admin, pk):
    return get_object_or_404(members_of(admin.organization_id), pk=pk)


def invitation_of(admin, pk):
    return get_object_or_404(Invitation.objects.select_related("organization"), pk=pk,
                             organization_id=admin.organization_id)


def join_request_of(admin, pk):
    return get_object_or_404(JoinRequest.objects.select_related("organization", "user"), pk=pk,
                             organization_id=admin.organization_id)


def join_requests_by(user):
    return JoinRequest.objects.filter(user=user).select_related("organization")


def organization_named(name):
    """The organization of that name, in any case; ValidationError if there is none."""
    organization = Organization.objects.filter(name__iexact=name.strip()).first()
    if organization is None:
        raise ValidationError(
            gettext("There is no organization of that name. Ask its administrators for its exact name."),
            code="unknown",
        )
    return organization


def check_usable(invitation):
    if invitation.accepted_at is not None:
        raise ValidationError(gettext("This invitation has already been used."), code="used")
    if invitation.revoked_at is not None:
        raise ValidationError(
            gettext("This invitation was withdrawn. Ask the organization for a new one."), code="revoked"
        )


def invitation_from_token(token):
    """The invitation a link names, if the link is genuine, within INVITATION_MAX_AGE_DAYS, unused and not
    revoked; ValidationError with the reason otherwise."""
    try:
        max_age = timedelta(days=settings.INVITATION_MAX_AGE_DAYS)
        pk = signing.loads(token, salt=INVITATION_SALT, max_age=max_age)
    except signing.SignatureExpired as error:
        raise ValidationError(gettext("This invitation has expired. Ask the organization for a new one."),
                              code="expired") from error
    except signing.BadSignature as error:
        raise ValidationError(gettext("This invitation link is not valid. Check that it was copied whole."),
                              code="invalid") from error
    invitation = Invitation.objects.select_related("organization").filter(pk=pk).first()
    if invitation is None:
        raise ValidationError(gettext("This invitation no longer exists."), code="invalid")
    check_usable(invitation)
    return invitation


def account_exists(email):
    return User.objects.filter(email=User.objects.normalize_email(email)).exists()
