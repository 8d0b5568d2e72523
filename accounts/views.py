from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext, gettext_lazy as _
from django.views import View
from django.views.generic import CreateView, UpdateView
from rest_framework.authtoken.models import Token

from batches.models import Batch
from batches.services import acceptance_threshold

from . import selectors, services
from .forms import (
    InvitationSignUpForm, InviteForm, JoinRequestForm, OrganizationSettingsForm, ProfileForm, SignUpForm,
)
from .models import Organization


class SignUpView(CreateView):
    form_class = SignUpForm
    template_name = "registration/signup.html"
    success_url = reverse_lazy("profile")

    def form_valid(self, form):
        response = super().form_valid(form)
        # Two backends are configured (axes, then MemberBackend): name the one that holds the user.
        login(self.request, self.object, backend="accounts.backends.MemberBackend")
        messages.success(self.request, gettext("Welcome to Digits. Your account is ready."))
        return response


class ProfileView(LoginRequiredMixin, UpdateView):
    form_class = ProfileForm
    template_name = "accounts/profile.html"
    success_url = reverse_lazy("profile")

    def get_object(self, queryset=None):
        return self.request.user

    def form_valid(self, form):
        messages.success(self.request, gettext("Your profile was saved."))
        return super().form_valid(form)

    def get_context_data(self, **kwargs):
        token = Token.objects.filter(user=self.request.user).first()
        return super().get_context_data(api_token=token, **kwargs)


class IssueTokenView(LoginRequiredMixin, View):
    def post(self, request):
        services.issue_api_token(request.user)
        messages.success(request, gettext("Your new API token is ready; any earlier one no longer works."))
        return redirect("profile")


class RevokeTokenView(LoginRequiredMixin, View):
    def post(self, request):
        services.revoke_api_token(request.user)
        messages.success(request, gettext("Your API token was revoked."))
        return redirect("profile")


class OfficialRequiredMixin(LoginRequiredMixin):
    """Anonymous visitors go to the log-in page; signed-in people who are not officials get a 404."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not selectors.is_official(request.user):
            raise Http404("No such page.")
        return super().dispatch(request, *args, **kwargs)


class OrgAdminRequiredMixin(LoginRequiredMixin):
    """The organization's actions: 404 for anybody but its active administrators."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not selectors.is_org_admin(request.user):
            raise Http404("No such page.")
        return super().dispatch(request, *args, **kwargs)


def _thresholds(organization):
    """Per kind of batch: the threshold a new batch gets, and the default it would get without a setting."""
    no_setting = Organization()
    return [(label, acceptance_threshold(organization, kind), acceptance_threshold(no_setting, kind))
            for kind, label in Batch.Kind.choices]


def organization_page(request, status=200, **forms):
    organization = request.user.organization
    context = {"organization": organization, "members": selectors.members_of(organization),
               "is_admin": selectors.is_org_admin(request.user)}
    if context["is_admin"]:
        context.update(
            invite_form=forms.get("invite_form") or InviteForm(),
            settings_form=forms.get("settings_form") or OrganizationSettingsForm(
                initial={"auto_accept_threshold": organization.auto_accept_threshold}
            ),
            invitations=selectors.open_invitations_of(organization),
            join_requests=selectors.pending_join_requests_of(organization),
            events=selectors.events_of(organization),
            thresholds=_thresholds(organization),
            invitation_days=settings.INVITATION_MAX_AGE_DAYS,
        )
    return render(request, "accounts/organization.html", context, status=status)


class OrganizationView(OfficialRequiredMixin, View):
    def get(self, request):
        return organization_page(request)


class OrganizationSettingsView(OrgAdminRequiredMixin, View):
    def post(self, request):
        form = OrganizationSettingsForm(request.POST)
        if form.is_valid():
            try:
                services.update_organization_settings(
                    request.user, request.user.organization,
                    auto_accept_threshold=form.cleaned_data["auto_accept_threshold"],
                )
            except ValidationError as error:
                form.add_error("auto_accept_threshold", error)
        if not form.is_valid():
            return organization_page(request, status=400, settings_form=form)
        messages.success(request, gettext("The settings were saved; new batches use them."))
        return redirect("organization")


class InviteView(OrgAdminRequiredMixin, View):
    def post(self, request):
        form = InviteForm(request.POST)
        if form.is_valid():
            try:
                invitation = services.invite(
                    request.user, request.user.organization, form.cleaned_data["email"],
                    build_absolute_uri=request.build_absolute_uri,
                )
            except ValidationError as error:
                form.add_error("email", error)
        if not form.is_valid():
            return organization_page(request, status=400, invite_form=form)
        sent = gettext("An invitation was e-mailed to %(email)s.") % {"email": invitation.email}
        messages.success(request, sent)
        return redirect("organization")


def _act(request, action, obj, done):
    """Run one service on ``obj``; its refusal is shown as a message, and the page shown again either way."""
    try:
        action(request.user, obj)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, done)
    return redirect("organization")


class InvitationRevokeView(OrgAdminRequiredMixin, View):
    def post(self, request, pk):
        invitation = selectors.invitation_of(request.user, pk)
        done = gettext("The invitation of %(email)s was revoked.") % {"email": invitation.email}
        return _act(request, services.revoke_invitation, invitation, done)


class JoinRequestDecisionView(OrgAdminRequiredMixin, View):
    DECISIONS = {"approve": (services.approve_join_request, _("The request of %(email)s was approved.")),
                 "decline": (services.decline_join_request, _("The request of %(email)s was declined."))}

    def post(self, request, pk, decision):
        join_request = selectors.join_request_of(request.user, pk)
        action, done = self.DECISIONS[decision]
        return _act(request, action, join_request, done % {"email": join_request.user.email})


class MemberActionView(OrgAdminRequiredMixin, View):
    ACTIONS = {
        "suspend": (services.suspend_member, _("%(email)s is suspended.")),
        "reinstate": (services.reinstate_member, _("%(email)s is reinstated.")),
        "make-admin": (services.grant_org_admin, _("%(email)s is now an administrator.")),
        "remove-admin": (services.revoke_org_admin, _("%(email)s is no longer an administrator.")),
    }

    def post(self, request, pk, action):
        member = selectors.member_of(request.user, pk)
        service, done = self.ACTIONS[action]
        return _act(request, service, member, done % {"email": member.email})


class JoinRequestView(LoginRequiredMixin, View):
    """A signed-in person asks to join an organization, and sees their requests."""

    template_name = "accounts/join.html"

    def get(self, request):
        return self.page(JoinRequestForm())

    def post(self, request):
        form = JoinRequestForm(request.POST)
        if form.is_valid():
            try:
                join_request = services.request_to_join(
                    request.user, form.cleaned_data["organization"], form.cleaned_data["message"]
                )
            except ValidationError as error:
                form.add_error(None, error)
        if not form.is_valid():
            return self.page(form, status=400)
        messages.success(request, gettext("Your request to join %(organization)s was sent to its "
                                          "administrators.") % {"organization": join_request.organization})
        return redirect("organization-join")

    def page(self, form, status=200):
        context = {"form": form, "join_requests": selectors.join_requests_by(self.request.user)}
        return render(self.request, self.template_name, context, status=status)


class InvitationAcceptView(View):
    """The link of an invitation. Signed in with the invited address: join. Anonymous: sign up with that
    address (or log in and come back). Any reason the link cannot be used is shown, with a 400."""

    template_name = "accounts/invitation.html"

    def dispatch(self, request, token):
        try:
            self.invitation = selectors.invitation_from_token(token)
        except ValidationError as error:
            return self.page(error=" ".join(error.messages), status=400)
        return super().dispatch(request, token)

    def get(self, request, token):
        anonymous = not request.user.is_authenticated
        return self.page(form=InvitationSignUpForm(invitation=self.invitation) if anonymous else None)

    def post(self, request, token):
        try:
            if request.user.is_authenticated:
                user = services.accept_invitation(request.user, self.invitation)
            else:
                form = InvitationSignUpForm(request.POST, invitation=self.invitation)
                if not form.is_valid():
                    return self.page(form=form, status=400)
                user = services.sign_up_by_invitation(
                    self.invitation, password=form.cleaned_data["password1"],
                    full_name=form.cleaned_data["full_name"],
                )
                login(request, user, backend="accounts.backends.MemberBackend")
        except ValidationError as error:
            return self.page(error=" ".join(error.messages), status=400)
        messages.success(request, gettext("Welcome to %(organization)s: you are one of its officials now.")
                         % {"organization": user.organization})
        return redirect("organization")

    def page(self, status=200, **context):
        invitation = getattr(self, "invitation", None)
        if invitation is not None and not self.request.user.is_authenticated:
            context["has_account"] = selectors.account_exists(invitation.email)
        return render(self.request, self.template_name, {"invitation": invitation, **context}, status=status)
