from rest_framework.authtoken.models import Token


def issue_api_token(user):
    """A new API token for the user; an earlier one stops working."""
    Token.objects.filter(user=user).delete()
    return Token.objects.create(user=user)


def revoke_api_token(user):
    Token.objects.filter(user=user).delete()
