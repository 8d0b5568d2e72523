import pytest
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from accounts.models import Organization, User

from .factories import make_official, make_user

pytestmark = pytest.mark.django_db


def test_email_is_the_login_and_is_stored_lower_case():
    user = make_user(email="  Ada.Lovelace@Example.COM ")
    assert user.email == "ada.lovelace@example.com"
    assert not hasattr(user, "username") or user.username is None
    assert User.objects.get_by_natural_key("ADA.LOVELACE@example.com") == user


def test_email_is_unique_whatever_its_case():
    make_user(email="ada@example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        make_user(email="ADA@example.com")
    assert User.objects.count() == 1


def test_default_role_is_ordinary_user():
    user = make_user()
    assert user.role == User.Role.USER
    assert not user.is_official
    assert user.organization is None


def test_official_belongs_to_an_organization():
    official = make_official()
    assert official.is_official
    assert official.organization.name == "First Bank"
    assert list(official.organization.members.all()) == [official]


def test_official_without_organization_is_refused_by_the_database():
    with pytest.raises(IntegrityError), transaction.atomic():
        make_user(email="lonely@bank.example", role=User.Role.OFFICIAL)


def test_organization_with_members_cannot_be_deleted():
    official = make_official()
    with pytest.raises(ProtectedError):
        Organization.objects.filter(pk=official.organization_id).delete()


def test_superuser():
    admin = User.objects.create_superuser(email="root@example.com", password="x-very-long-pass")
    assert admin.is_staff and admin.is_superuser
    assert admin.check_password("x-very-long-pass")
