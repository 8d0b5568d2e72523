from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import redirect
from django.urls import reverse_lazy
from django.views import View
from django.views.generic import CreateView, UpdateView
from rest_framework.authtoken.models import Token

from . import services
from .forms import ProfileForm, SignUpForm


class SignUpView(CreateView):
    form_class = SignUpForm
    template_name = "registration/signup.html"
    success_url = reverse_lazy("profile")

    def form_valid(self, form):
        response = super().form_valid(form)
        # Two backends are configured (axes, then ModelBackend): name the one that holds the user.
        login(self.request, self.object, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(self.request, "Welcome to Digits. Your account is ready.")
        return response


class ProfileView(LoginRequiredMixin, UpdateView):
    form_class = ProfileForm
    template_name = "accounts/profile.html"
    success_url = reverse_lazy("profile")

    def get_object(self, queryset=None):
        return self.request.user

    def form_valid(self, form):
        messages.success(self.request, "Your profile was saved.")
        return super().form_valid(form)

    def get_context_data(self, **kwargs):
        token = Token.objects.filter(user=self.request.user).first()
        return super().get_context_data(api_token=token, **kwargs)


class IssueTokenView(LoginRequiredMixin, View):
    def post(self, request):
        services.issue_api_token(request.user)
        messages.success(request, "Your new API token is ready; any earlier one no longer works.")
        return redirect("profile")


class RevokeTokenView(LoginRequiredMixin, View):
    def post(self, request):
        services.revoke_api_token(request.user)
        messages.success(request, "Your API token was revoked.")
        return redirect("profile")
