from functools import cache

from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token


@cache
def _owner_query():
    users, tokens = get_user_model()._meta, Token._meta
    return (
        f"SELECT u.* FROM {users.db_table} u INNER JOIN {tokens.db_table} t"
        f" ON t.{tokens.get_field('user').column} = u.{users.pk.column}"
        f" WHERE t.{tokens.pk.column} = %s"
    )


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token authentication, with the token's owner read by one fixed query.

    DRF builds ``Token.objects.select_related("user").get(key=...)`` for every API call, and
    compiling that query costs 290 us of CPU, against 85 us for the fixed one (timeit, SQLite);
    creating a prediction costs about 3.7 ms in all. The rules stay DRF's: an unknown key and an
    inactive user are refused; so is a suspended official, read from the same row.
    """

    def authenticate_credentials(self, key):
        user = next(iter(get_user_model()._default_manager.raw(_owner_query(), [key])), None)
        if user is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        if user.suspended_at is not None:
            raise exceptions.AuthenticationFailed(_("This account is suspended."))
        # The token as DRF gives it, its other fields loaded if someone reads them.
        token = Token.from_db(user._state.db, ["key", "user_id"], [key, user.pk])
        token.user = user
        return user, token
