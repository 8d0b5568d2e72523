from django.urls import include, path

from . import views

# django.contrib.auth.urls gives login, logout, password change and reset under their usual names.
urlpatterns = [
    path("signup/", views.SignUpView.as_view(), name="signup"),
    path("profile/", views.ProfileView.as_view(), name="profile"),
    path("token/", views.IssueTokenView.as_view(), name="api-token-issue"),
    path("token/revoke/", views.RevokeTokenView.as_view(), name="api-token-revoke"),
    path("", include("django.contrib.auth.urls")),
]
