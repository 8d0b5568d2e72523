"""The organization's own settings."""

from django.db import transaction

from ..models import MembershipEvent, Organization
from .common import record, require_admin_of


def update_organization_settings(actor, organization, *, auto_accept_threshold):
    """Set the confidence from which new batches' items are accepted automatically (None: the defaults).
    ValidationError outside 0.5-1.0. Batches made before keep the threshold they were made with."""
    require_admin_of(actor, organization)
    # The field's own validators, before the organization is touched.
    auto_accept_threshold = Organization._meta.get_field("auto_accept_threshold").clean(
        auto_accept_threshold, organization
    )
    before = organization.auto_accept_threshold
    organization.auto_accept_threshold = auto_accept_threshold
    with transaction.atomic():
        organization.save(update_fields=["auto_accept_threshold"])
        record(actor, organization, MembershipEvent.Action.SETTINGS_CHANGED,
               detail=f"auto-accept threshold: {_shown(before)} -> {_shown(auto_accept_threshold)}")
    return organization


def _shown(threshold):
    return "default" if threshold is None else f"{threshold:g}"
