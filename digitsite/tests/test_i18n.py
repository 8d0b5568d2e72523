"""Languages: the switcher remembers the choice, pages carry it, the API follows Accept-Language."""

import re

import pytest
from django.conf import settings
from django.utils import translation

from accounts.tests.factories import token_api_client


def test_every_language_has_a_compiled_catalog():
    # make test / make run compile them (compilemessages); a language without its .mo would show English.
    for code, _name in settings.LANGUAGES:
        if code != settings.LANGUAGE_CODE:
            assert (settings.LOCALE_PATHS[0] / code / "LC_MESSAGES" / "django.mo").exists(), code
            with translation.override(code):
                assert translation.gettext("Language") != "Language", code


@pytest.mark.django_db
@pytest.mark.parametrize("code", [code for code, _name in settings.LANGUAGES])
def test_the_switcher_sets_the_language_and_it_is_remembered(client, code):
    response = client.post("/i18n/setlang/", {"language": code, "next": "/accounts/login/"})
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == code
    page = client.get("/accounts/login/").content.decode()  # the cookie, sent back, chooses the language
    assert f'<html lang="{code}">' in page
    with translation.override(code):
        assert f">{translation.gettext('Language')}<" in page
    assert re.search(rf'<option value="{code}" lang="{code}" selected>', page)


@pytest.mark.django_db
def test_the_browsers_language_is_used_when_none_was_chosen(client):
    page = client.get("/accounts/login/", headers={"accept-language": "ta,en;q=0.5"}).content.decode()
    assert '<html lang="ta">' in page and ">மொழி<" in page


@pytest.mark.django_db
@pytest.mark.parametrize("language, message", [
    ("hi", "अमान्य टोकन।"), ("ta", "தவறான டோக்கன்."), ("en", "Invalid token."),
])
def test_api_errors_follow_accept_language(language, message):
    response = token_api_client("no-such-token").get("/api/v1/predictions/", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"  # codes stay English: clients branch on them
    assert response.json()["message"] == message
