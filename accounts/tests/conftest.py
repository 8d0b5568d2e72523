import re

import pytest

from accounts.models import Organization

from .factories import make_official, make_user


@pytest.fixture
def bank(db):
    return Organization.objects.create(name="First Bank")


@pytest.fixture
def other_bank(db):
    return Organization.objects.create(name="Second Bank")


@pytest.fixture
def admin(bank):
    return make_official("boss@first.example", organization=bank, is_org_admin=True)


@pytest.fixture
def member(bank):
    return make_official("clerk@first.example", organization=bank)


@pytest.fixture
def other_admin(other_bank):
    return make_official("boss@second.example", organization=other_bank, is_org_admin=True)


@pytest.fixture
def newcomer(db):
    return make_user("new@example.com")


def link_in(message):
    """The path of the invitation link in an e-mail."""
    return re.search(r"https?://[^/\s]+(/organization/invitation/[^/\s]+/)", message.body).group(1)
