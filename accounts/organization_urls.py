from django.urls import path, re_path

from . import views
from .throttling import limit_form_posts

urlpatterns = [
    path("", views.OrganizationView.as_view(), name="organization"),
    path("settings/", views.OrganizationSettingsView.as_view(), name="organization-settings"),
    path("invitations/", views.InviteView.as_view(), name="organization-invite"),
    path("invitations/<int:pk>/revoke/", views.InvitationRevokeView.as_view(), name="invitation-revoke"),
    re_path(r"^requests/(?P<pk>[0-9]+)/(?P<decision>approve|decline)/$",
            views.JoinRequestDecisionView.as_view(), name="join-request-decide"),
    re_path(r"^members/(?P<pk>[0-9]+)/(?P<action>suspend|reinstate|make-admin|remove-admin)/$",
            views.MemberActionView.as_view(), name="member-action"),
    path("join/", views.JoinRequestView.as_view(), name="organization-join"),
    # Anonymous visitors sign up here: limited per IP like the sign-up form.
    path("invitation/<str:token>/", limit_form_posts(views.InvitationAcceptView.as_view()),
         name="invitation-accept"),
]
