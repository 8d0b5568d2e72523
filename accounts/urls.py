from django.urls import include, path

from . import views

# django.contrib.auth.urls gives login, logout, password change and reset under their usual names.
urlpatterns = [
    path("signup/", views.SignUpView.as_view(), name="signup"),
    path("profile/", views.ProfileView.as_view(), name="profile"),
    path("", include("django.contrib.auth.urls")),
]
