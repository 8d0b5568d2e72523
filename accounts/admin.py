from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils.translation import gettext, gettext_lazy as _, ngettext_lazy

from . import services
from .forms import UserAdminChangeForm, UserAdminCreationForm
from .models import Invitation, JoinRequest, MembershipEvent, Organization, User


def _for_each(modeladmin, request, queryset, service, done):
    """Run a service on each selected object as the signed-in staff member; refusals are listed. ``done``:
    how many succeeded, an ngettext_lazy message numbered by "count"."""
    count = 0
    for obj in queryset:
        try:
            service(request.user, obj)
        except ValidationError as error:
            refusal = gettext("%(object)s: %(reason)s") % {"object": obj, "reason": " ".join(error.messages)}
            modeladmin.message_user(request, refusal, messages.ERROR)
        except Http404:  # what the services say of a user who is no official of an organization
            refusal = gettext("%(object)s: not an official of an organization.") % {"object": obj}
            modeladmin.message_user(request, refusal, messages.ERROR)
        else:
            count += 1
    if count:
        modeladmin.message_user(request, done % {"count": count}, messages.SUCCESS)


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ("name", "member_count", "auto_accept_threshold", "created_at")
    search_fields = ("name",)

    @admin.display(description=_("members"))
    def member_count(self, obj):
        return obj.members.count()


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = UserAdminChangeForm
    add_form = UserAdminCreationForm
    ordering = ("email",)
    list_display = ("email", "full_name", "role", "organization", "is_org_admin", "suspended_at", "is_staff",
                    "is_active")
    list_filter = ("role", "organization", "is_org_admin", "is_staff", "is_superuser", "is_active")
    search_fields = ("email", "full_name", "organization__name")
    autocomplete_fields = ("organization",)
    # Administrators and suspension change through the actions, which keep an administrator and the audit.
    readonly_fields = ("is_org_admin", "suspended_at")
    actions = ["suspend", "reinstate", "make_org_admin", "remove_org_admin"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Personal info"), {"fields": ("full_name",)}),
        (_("Role"), {"fields": ("role", "organization", "is_org_admin", "suspended_at")}),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "role", "organization", "usable_password", "password1", "password2"),
            },
        ),
    )

    # The counts' messages: English says "1 suspended." and "2 suspended."; other languages may not.
    @admin.action(description=_("Suspend the selected officials"), permissions=["change"])
    def suspend(self, request, queryset):
        _for_each(self, request, queryset, services.suspend_member,
                  ngettext_lazy("%(count)d suspended.", "%(count)d suspended.", "count"))

    @admin.action(description=_("Reinstate the selected officials"), permissions=["change"])
    def reinstate(self, request, queryset):
        _for_each(self, request, queryset, services.reinstate_member,
                  ngettext_lazy("%(count)d reinstated.", "%(count)d reinstated.", "count"))

    @admin.action(description=_("Make the selected officials administrators of their organization"),
                  permissions=["change"])
    def make_org_admin(self, request, queryset):
        _for_each(self, request, queryset, services.grant_org_admin,
                  ngettext_lazy("%(count)d made administrators.", "%(count)d made administrators.", "count"))

    @admin.action(description=_("Remove the selected officials as administrators"), permissions=["change"])
    def remove_org_admin(self, request, queryset):
        _for_each(self, request, queryset, services.revoke_org_admin,
                  ngettext_lazy("%(count)d removed as administrators.",
                                "%(count)d removed as administrators.", "count"))


class InvitationAddForm(forms.ModelForm):
    class Meta:
        model = Invitation
        fields = ("organization", "email")


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    """Staff invite from the add form (the e-mail is sent as from an organization's page) and revoke."""

    form = InvitationAddForm
    list_display = ("email", "organization", "state", "invited_by", "created_at", "accepted_at", "revoked_at")
    list_filter = ("organization",)
    search_fields = ("email", "organization__name")
    autocomplete_fields = ("organization",)
    actions = ["revoke"]

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("state"))
    def state(self, obj):
        return obj.get_state_display()

    def save_model(self, request, obj, form, change):
        try:
            created = services.invite(request.user, obj.organization, obj.email,
                                      build_absolute_uri=request.build_absolute_uri)
        except ValidationError as error:
            # The add form has been validated already; a refusal here (a member, mail down) is told and
            # nothing is stored.
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            return
        obj.pk = created.pk

    def response_add(self, request, obj, post_url_continue=None):
        if obj.pk is None:  # refused in save_model
            return self.response_post_save_add(request, obj)
        return super().response_add(request, obj, post_url_continue)

    def has_revoke_permission(self, request):
        return request.user.has_perm("accounts.change_invitation")

    @admin.action(description=_("Revoke the selected invitations"), permissions=["revoke"])
    def revoke(self, request, queryset):
        _for_each(self, request, queryset, services.revoke_invitation,
                  ngettext_lazy("%(count)d revoked.", "%(count)d revoked.", "count"))


@admin.register(JoinRequest)
class JoinRequestAdmin(admin.ModelAdmin):
    list_display = ("user", "organization", "status", "message", "created_at", "decided_by", "decided_at")
    list_filter = ("status", "organization")
    search_fields = ("user__email", "organization__name")
    actions = ["approve", "decline"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_decide_permission(self, request):
        return request.user.has_perm("accounts.change_joinrequest")

    @admin.action(description=_("Approve the selected requests"), permissions=["decide"])
    def approve(self, request, queryset):
        _for_each(self, request, queryset, services.approve_join_request,
                  ngettext_lazy("%(count)d approved.", "%(count)d approved.", "count"))

    @admin.action(description=_("Decline the selected requests"), permissions=["decide"])
    def decline(self, request, queryset):
        _for_each(self, request, queryset, services.decline_join_request,
                  ngettext_lazy("%(count)d declined.", "%(count)d declined.", "count"))


@admin.register(MembershipEvent)
class MembershipEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "organization", "actor", "action", "subject", "detail")
    list_filter = ("action", "organization")
    search_fields = ("actor__email", "subject__email", "organization__name", "detail")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
