"""Join requests: a user asks to join an organization; one of its administrators approves or declines."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy as _

from ..models import JoinRequest, MembershipEvent, User
from .common import notify, record, require_admin_of
from .members import make_official

Action = MembershipEvent.Action
Status = JoinRequest.Status

ALREADY_DECIDED = {Status.APPROVED: _("This request was already approved."),
                   Status.DECLINED: _("This request was already declined.")}
# The requester's e-mail (subject, body) once the request is decided.
VERDICTS = {
    Status.APPROVED: (_("Your request to join %(organization)s was approved"),
                      _("Your request to join %(organization)s on Digits was approved.")),
    Status.DECLINED: (_("Your request to join %(organization)s was declined"),
                      _("Your request to join %(organization)s on Digits was declined.")),
}


def request_to_join(user, organization, message=""):
    """File the request and tell the organization's administrators by e-mail."""
    if user.is_official:
        if user.organization_id == organization.pk:
            refusal = gettext("You are a member of %(organization)s.")
        else:
            refusal = gettext("You are already an official of %(organization)s.")
        raise ValidationError(refusal, code="official", params={"organization": user.organization})
    if JoinRequest.objects.filter(user=user, organization=organization, status=Status.PENDING).exists():
        raise ValidationError(
            gettext("You have already asked to join %(organization)s; its administrators will answer."),
            code="pending", params={"organization": organization},
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
    # In the language of the request that files it, as are the other e-mails.
    words = {"email": user.email, "name": user.get_full_name(), "organization": organization}
    notify(
        gettext("%(email)s asks to join %(organization)s") % words,
        gettext("%(name)s <%(email)s> asks to join %(organization)s on Digits.") % words
        + f"\n\n{join_request.message}\n\n"
        + gettext("Approve or decline it on the organization page (Organization in the menu).") + "\n",
        list(admins),
    )
    return join_request


def _decide(actor, join_request, status):
    require_admin_of(actor, join_request.organization)
    with transaction.atomic():
        # Only the request's row is locked: PostgreSQL cannot lock the nullable side of the joins.
        join_request = (JoinRequest.objects.select_for_update(of=("self",))
                        .select_related("user", "organization").get(pk=join_request.pk))
        if join_request.status != Status.PENDING:
            raise ValidationError(ALREADY_DECIDED[join_request.status], code="decided")
        if status == Status.APPROVED:
            make_official(join_request.user, join_request.organization)
        join_request.status, join_request.decided_at, join_request.decided_by = status, timezone.now(), actor
        join_request.save(update_fields=["status", "decided_at", "decided_by"])
        action = Action.JOIN_APPROVED if status == Status.APPROVED else Action.JOIN_DECLINED
        record(actor, join_request.organization, action, subject=join_request.user)
    subject, body = VERDICTS[status]
    words = {"organization": join_request.organization}
    notify(subject % words, body % words + "\n", [join_request.user.email])
    return join_request


def approve_join_request(actor, join_request):
    """The requester becomes an official of the organization (refused if they are one elsewhere meanwhile)."""
    return _decide(actor, join_request, Status.APPROVED)


def decline_join_request(actor, join_request):
    return _decide(actor, join_request, Status.DECLINED)
