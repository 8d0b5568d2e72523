"""Join requests: a user asks to join an organization; one of its administrators approves or declines."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ..models import JoinRequest, MembershipEvent, User
from .common import notify, record, require_admin_of
from .members import make_official

Action = MembershipEvent.Action
Status = JoinRequest.Status


def request_to_join(user, organization, message=""):
    """File the request and tell the organization's administrators by e-mail."""
    if user.is_official:
        where = "a member of" if user.organization_id == organization.pk else "already an official of"
        raise ValidationError(f"You are {where} {user.organization}.", code="official")
    if JoinRequest.objects.filter(user=user, organization=organization, status=Status.PENDING).exists():
        raise ValidationError(
            f"You have already asked to join {organization}; its administrators will answer.", code="pending"
        )
    with transaction.atomic():
        join_request = JoinRequest.objects.create(
            user=user, organization=organization, message=message.strip()
        )
        record(user, organization, Action.JOIN_REQUESTED, subject=user)
    admins = User.objects.filter(
        organization=organization, role=User.Role.OFFICIAL, is_org_admin=True, suspended_at=None,
        is_active=True,
    ).values_list("email", flat=True)
    notify(
        f"{user.email} asks to join {organization}",
        f"{user.get_full_name()} <{user.email}> asks to join {organization} on Digits.\n\n"
        f"{join_request.message}\n\n"
        "Approve or decline it on the organization page (Organization in the menu).\n",
        list(admins),
    )
    return join_request


def _decide(actor, join_request, status):
    require_admin_of(actor, join_request.organization)
    with transaction.atomic():
        join_request = JoinRequest.objects.select_for_update().select_related("user", "organization").get(
            pk=join_request.pk
        )
        if join_request.status != Status.PENDING:
            raise ValidationError(
                f"This request was already {join_request.get_status_display().lower()}.", code="decided"
            )
        if status == Status.APPROVED:
            make_official(join_request.user, join_request.organization)
        join_request.status, join_request.decided_at, join_request.decided_by = status, timezone.now(), actor
        join_request.save(update_fields=["status", "decided_at", "decided_by"])
        action = Action.JOIN_APPROVED if status == Status.APPROVED else Action.JOIN_DECLINED
        record(actor, join_request.organization, action, subject=join_request.user)
    verdict = "approved" if status == Status.APPROVED else "declined"
    notify(f"Your request to join {join_request.organization} was {verdict}",
           f"Your request to join {join_request.organization} on Digits was {verdict}.\n",
           [join_request.user.email])
    return join_request


def approve_join_request(actor, join_request):
    """The requester becomes an official of the organization (refused if they are one elsewhere meanwhile)."""
    return _decide(actor, join_request, Status.APPROVED)


def decline_join_request(actor, join_request):
    return _decide(actor, join_request, Status.DECLINED)
