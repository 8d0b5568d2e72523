from django.contrib.auth.backends import ModelBackend


class MemberBackend(ModelBackend):
    """ModelBackend, refusing suspended officials too: their log-in fails, and a session they already hold
    stops working on its next request (get_user asks the same question)."""

    def user_can_authenticate(self, user):
        return super().user_can_authenticate(user) and getattr(user, "suspended_at", None) is None
