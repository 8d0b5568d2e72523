"""API token authentication: the owner is read with one fixed query, under DRF's rules."""

import pytest

from accounts.services import issue_api_token, revoke_api_token

from .factories import make_user, token_api_client

ME = "/api/v1/predictions/"


@pytest.fixture
def user(db):
    return make_user()


def test_a_token_authenticates_its_owner_and_carries_the_stored_token(user):
    other = make_user("grace@example.com")
    issue_api_token(other)
    token = issue_api_token(user)
    response = token_api_client(token.key).get(ME)
    assert response.status_code == 200
    request = response.wsgi_request
    assert request.user == user and request.user.email == user.email
    assert (request.auth.key, request.auth.user, request.auth.created) == (token.key, user, token.created)


@pytest.mark.parametrize("make_unusable", [
    pytest.param(lambda user, token: revoke_api_token(user), id="revoked"),
    pytest.param(lambda user, token: type(user).objects.filter(pk=user.pk).update(is_active=False), id="inactive"),
    pytest.param(lambda user, token: user.delete(), id="deleted"),
])
def test_an_unusable_token_is_refused(user, make_unusable):
    token = issue_api_token(user)
    make_unusable(user, token)
    response = token_api_client(token.key).get(ME)
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_an_unknown_key_is_refused_even_when_it_looks_like_sql(user):
    issue_api_token(user)
    response = token_api_client("x' OR '1'='1").get(ME)
    assert response.status_code == 401
