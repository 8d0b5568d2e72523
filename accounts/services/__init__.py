"""Writes of the accounts app, one named function per state change, split by entity."""

from .invitations import accept_invitation, invite, revoke_invitation, sign_up_by_invitation
from .join_requests import approve_join_request, decline_join_request, request_to_join
from .members import grant_org_admin, reinstate_member, revoke_org_admin, suspend_member
from .organizations import update_organization_settings
from .tokens import issue_api_token, revoke_api_token

__all__ = [
    "accept_invitation", "approve_join_request", "decline_join_request", "grant_org_admin", "invite",
    "issue_api_token", "reinstate_member", "request_to_join", "revoke_api_token", "revoke_invitation",
    "revoke_org_admin", "sign_up_by_invitation", "suspend_member", "update_organization_settings",
]
