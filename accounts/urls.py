from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import views
from .throttling import limit_form_posts

# django.contrib.auth.urls gives login, logout, password change and reset under their usual names;
# the forms anyone may post come first, limited per IP.
urlpatterns = [
    path("login/", limit_form_posts(auth_views.LoginView.as_view()), name="login"),
    path("password_reset/", limit_form_posts(auth_views.PasswordResetView.as_view()), name="password_reset"),
    path("signup/", limit_form_posts(views.SignUpView.as_view()), name="signup"),
    path("profile/", views.ProfileView.as_view(), name="profile"),
    path("token/", views.IssueTokenView.as_view(), name="api-token-issue"),
    path("token/revoke/", views.RevokeTokenView.as_view(), name="api-token-revoke"),
    path("", include("django.contrib.auth.urls")),
]
