"""Invitations: an administrator invites an address; a signed, single-use, expiring link makes its holder an
official of the organization."""

from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from ..models import Invitation, MembershipEvent, User
from ..selectors import INVITATION_SALT, check_usable
from .common import MAIL_ERRORS, record, require_admin_of
from .members import make_official

Action = MembershipEvent.Action


def invite(actor, organization, email, *, build_absolute_uri):
    """Invite ``email`` to the organization and mail it the link (``build_absolute_uri``: the request's, to
    make the link absolute). Earlier pending invitations of the address are revoked, so only the newest link
    works. ValidationError when the address is already a member or the mail cannot be sent (then nothing
    is stored)."""
    require_admin_of(actor, organization)
    email = User.objects.normalize_email(email)
    validate_email(email)
    if User.objects.filter(email=email, organization=organization, role=User.Role.OFFICIAL).exists():
        raise ValidationError(gettext("%(email)s is already a member of %(organization)s."), code="member",
                              params={"email": email, "organization": organization})
    with transaction.atomic():
        Invitation.objects.filter(
            organization=organization, email=email, accepted_at=None, revoked_at=None
        ).update(revoked_at=timezone.now())
        invitation = Invitation.objects.create(organization=organization, email=email, invited_by=actor)
        record(actor, organization, Action.INVITED, detail=email)
        token = signing.dumps(invitation.pk, salt=INVITATION_SALT)
        context = {
            "invitation": invitation, "inviter": actor,
            "link": build_absolute_uri(reverse("invitation-accept", args=[token])),
        }
        subject = render_to_string("accounts/email/invitation_subject.txt", context).strip()
        body = render_to_string("accounts/email/invitation_body.txt", context)
        # Inside the transaction: an invitation whose mail could not leave is not kept.
        try:
            send_mail(subject, body, None, [email])
        except MAIL_ERRORS as error:
            raise ValidationError(
                gettext("The invitation could not be e-mailed just now; nothing was sent. Try again later."),
                code="mail_failed",
            ) from error
    return invitation


def revoke_invitation(actor, invitation):
    require_admin_of(actor, invitation.organization)
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        check_usable(invitation)
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        record(actor, invitation.organization, Action.INVITATION_REVOKED, detail=invitation.email)
    return invitation


def accept_invitation(user, invitation):
    """Make ``user``, whose address the invitation names, an official of its organization; the link is used
    up. ValidationError with the reason when it was used, revoked, is for another address, or when the user
    is an official already (nobody is moved from one organization to another by a link)."""
    with transaction.atomic():
        # Locked and read again: of two clicks at once, the second finds it used.
        invitation = Invitation.objects.select_for_update(of=("self",)).select_related("organization").get(
            pk=invitation.pk
        )
        check_usable(invitation)
        if user.email != invitation.email:
            raise ValidationError(
                gettext("This invitation is for %(invited)s, and you are signed in as %(email)s. "
                        "Log out and sign in with the invited address."), code="wrong_email",
                params={"invited": invitation.email, "email": user.email},
            )
        user = make_official(user, invitation.organization)
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
        record(user, invitation.organization, Action.INVITATION_ACCEPTED, subject=user,
               detail=invitation.email)
    return user


def sign_up_by_invitation(invitation, *, password, full_name=""):
    """A new account for the invited address, an official of the organization at once."""
    with transaction.atomic():
        user = User.objects.create_user(email=invitation.email, password=password, full_name=full_name)
        return accept_invitation(user, invitation)
