"""What every membership change shares: who may make it, and its record in the audit trail."""

import logging
from smtplib import SMTPException

from django.core.mail import send_mail
from django.http import Http404

from ..models import MembershipEvent
from ..selectors import is_org_admin

logger = logging.getLogger(__name__)

# What sending an e-mail may raise when the mail server is down or refuses.
MAIL_ERRORS = (OSError, SMTPException)


def require_admin_of(actor, organization):
    """Staff (the admin site) or an active administrator of this very organization may go on; for anybody
    else the thing acted on does not exist (404), so nothing says whether it does."""
    if actor.is_staff and actor.is_active:
        return
    if organization is not None and is_org_admin(actor) and actor.organization_id == organization.pk:
        return
    raise Http404("No such page.")


def record(actor, organization, action, subject=None, detail=""):
    return MembershipEvent.objects.create(
        organization=organization, actor=actor, subject=subject, action=action, detail=detail[:300]
    )


def notify(subject, body, recipients):
    """A notice by e-mail that the change does not depend on: a failing mail server is logged, not raised."""
    if not recipients:
        return
    try:
        send_mail(subject, body, None, recipients)
    except MAIL_ERRORS:
        logger.warning("Could not send %r to %s", subject, recipients, exc_info=True)
