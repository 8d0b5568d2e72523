from django import forms
from django.contrib.auth.forms import AdminUserCreationForm, BaseUserCreationForm, UserChangeForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext, gettext_lazy as _

from . import selectors
from .models import Organization, User


class SignUpForm(BaseUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "full_name")


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ("full_name",)


class UserAdminCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "role", "organization")


class UserAdminChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class InvitationSignUpForm(SignUpForm):
    """Sign-up for an invited address: the address is the invitation's and cannot be changed."""

    def __init__(self, *args, invitation, **kwargs):
        super().__init__(*args, initial={"email": invitation.email}, **kwargs)
        self.fields["email"].disabled = True
        self.fields["email"].help_text = gettext("The invited address.")


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address"), max_length=254)


class JoinRequestForm(forms.Form):
    organization = forms.CharField(
        label=_("Organization"), max_length=200,
        help_text=_("Its exact name, as its administrators give it (any case)."),
    )
    message = forms.CharField(
        label=_("Message to its administrators"), max_length=500, required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean_organization(self):
        try:
            return selectors.organization_named(self.cleaned_data["organization"])
        except ValidationError as error:
            raise forms.ValidationError(error.messages, code="unknown") from error


class OrganizationSettingsForm(forms.Form):
    # The model's field, with its 0.5-1.0 validators; a plain form, so that a refused value never touches
    # the organization the page shows.
    auto_accept_threshold = Organization._meta.get_field("auto_accept_threshold").formfield(
        help_text=_("Between 0.5 and 1.0; empty for the defaults below."),
        widget=forms.NumberInput(attrs={"step": "any", "min": 0.5, "max": 1}),
    )
