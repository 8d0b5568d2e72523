from rest_framework.test import APIClient

from accounts.models import Organization, User

PASSWORD = "correct-horse-battery-7"


def make_user(email="ada@example.com", password=PASSWORD, **fields):
    return User.objects.create_user(email=email, password=password, **fields)


def make_official(email="clerk@bank.example", organization=None, **fields):
    organization = organization or Organization.objects.get_or_create(name="First Bank")[0]
    return make_user(email=email, role=User.Role.OFFICIAL, organization=organization, **fields)


def token_api_client(key):
    """An API client that sends this token key with every request."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client
