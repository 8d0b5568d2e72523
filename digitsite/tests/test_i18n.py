"""Languages: the switcher remembers the choice, pages carry it, the API follows Accept-Language."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail, signing
from django.template.base import Lexer, TokenType
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from accounts.models import Invitation, Organization
from accounts.selectors import INVITATION_SALT
from accounts.tests.factories import make_official, make_user, token_api_client

TRANSLATED = [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]


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


TEMPLATES = settings.BASE_DIR / "templates"
# What a person reads in a template and is not marked for translation (the check of var/unmarked.py).
READ_ATTRS = {"alt", "title", "placeholder", "aria-label", "aria-description", "data-confirm"}
WORDS = re.compile(r"[A-Za-z]{2,}")
# The templates whose text is all marked; the aim is every template under templates/.
# Every template: a text a person reads is marked for translation (an e-mail's .txt templates too).
MARKED_TEMPLATES = sorted(
    str(path.relative_to(TEMPLATES)) for path in TEMPLATES.rglob("*") if path.suffix in (".html", ".txt")
)


def _flatten(source):
    """The template's text with each tag and variable replaced by a neutral mark, translated blocks and
    comments dropped: what is left was written in the template and shown as it is."""
    out, skip = [], 0
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.TEXT:
            if not skip:
                out.append(token.contents)
        elif token.token_type == TokenType.BLOCK:
            name = (token.contents.split() or [""])[0]
            if name in ("blocktranslate", "blocktrans", "comment"):
                skip += 1
            elif name in ("endblocktranslate", "endblocktrans", "endcomment"):
                skip -= 1
            out.append("\x00")
        elif token.token_type == TokenType.VAR:
            out.append("\x00")
    return "".join(out)


class _Reader(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found, self.hidden = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.hidden += 1
        for name, value in attrs:
            if name in READ_ATTRS and value and WORDS.search(value):
                self.found.append((self.getpos()[0], f'{name}="{value}"'))

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.hidden -= 1

    def handle_data(self, data):
        if not self.hidden and WORDS.search(data):
            self.found.append((self.getpos()[0], " ".join(data.split())[:80]))


def unmarked(source, text_file=False):
    """[(line, text)] of the text a person reads that no translation tag covers (HTML: text and the
    attributes people read; a .txt e-mail: every line with words)."""
    flat = _flatten(source)
    if text_file:
        return [(number, line) for number, line in enumerate(flat.splitlines(), 1) if WORDS.search(line)]
    reader = _Reader()
    reader.feed(flat)
    return reader.found


def test_the_check_finds_unmarked_text():
    source = '{% load i18n %}<p title="Plain words">{% translate "Fine" %} Not fine {{ x }}</p>'
    found = [text.strip("\x00 ") for _line, text in unmarked(source)]
    assert found == ['title="Plain words"', "Not fine"]
    covered = "{% blocktranslate %}All {{ x }} here{% endblocktranslate %}<script>a = 'b'</script>"
    assert unmarked(covered) == []
    e_mail = "{% load i18n %}Hello {{ name }}\n{{ link }}\n"
    assert unmarked(e_mail, text_file=True) == [(1, "\x00Hello \x00")]


@pytest.mark.parametrize("name", MARKED_TEMPLATES)
def test_every_text_of_the_marked_templates_is_marked(name):
    path = TEMPLATES / name
    assert unmarked(path.read_text(), text_file=Path(name).suffix == ".txt") == [], name


# The catalogs are read through these, with the message in a variable, so that makemessages does not
# take the tests for places that use the messages.

def in_catalog(code, msgid, **words):
    with translation.override(code):
        text = translation.gettext(msgid)
    return text % words if words else text


def translated(code, msgid, **words):
    """The text of ``msgid`` in ``code``, which must differ from the English."""
    assert in_catalog(code, msgid) != msgid, (code, msgid)
    return in_catalog(code, msgid, **words)


def counted(code, msgid, msgid_plural, count):
    with translation.override(code):
        return translation.ngettext(msgid, msgid_plural, count) % {"count": count}


@pytest.fixture
def bank(db):
    return Organization.objects.create(name="First Bank")


@pytest.fixture
def admin(bank):
    return make_official("boss@first.example", organization=bank, is_org_admin=True)


def in_language(client, code):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = code
    return client


@pytest.mark.parametrize("code", TRANSLATED)
@pytest.mark.parametrize("who, url, heading", [
    (None, "/accounts/login/", "Forgot your password?"),
    (None, "/accounts/signup/", "Create your account"),
    ("admin", "/organization/", "Invite an official"),
    ("admin", "/organization/", "Recent changes"),
    ("plain", "/organization/join/", "Join an organization"),
    ("admin", "/batches/", "New batch"),
    ("admin", "/batches/new/", "Create the batch"),
])
def test_the_marked_pages_come_in_each_language(client, admin, code, who, url, heading):
    if who == "admin":
        client.force_login(admin)
    elif who == "plain":
        client.force_login(make_user("plain@example.com"))
    response = in_language(client, code).get(url)
    page = response.content.decode()
    assert response.status_code == 200
    assert f'<html lang="{code}">' in page
    assert escape(translated(code, heading)) in page and heading not in page


@pytest.mark.parametrize("code", TRANSLATED)
def test_the_invitation_page_comes_in_each_language(client, admin, code):
    invitation = Invitation.objects.create(organization=admin.organization, email="new@example.com",
                                           invited_by=admin)
    token = signing.dumps(invitation.pk, salt=INVITATION_SALT)
    page = in_language(client, code).get(reverse("invitation-accept", args=[token])).content.decode()
    assert f'<html lang="{code}">' in page
    assert translated(code, "Join %(organization)s", organization="First Bank") in page
    assert translated(code, "Sign up to accept") in page
    broken = in_language(client, code).get(reverse("invitation-accept", args=["forged"]))
    assert broken.status_code == 400
    assert translated(code, "This invitation link is not valid. Check that it was copied whole.") in (
        broken.content.decode())


@pytest.mark.parametrize("code", TRANSLATED)
def test_form_errors_come_translated(client, admin, code):
    client.force_login(make_user("plain@example.com"))
    response = in_language(client, code).post("/organization/join/", {"organization": "No Such Bank"})
    assert response.status_code == 400
    message = "There is no organization of that name. Ask its administrators for its exact name."
    assert translated(code, message) in response.content.decode()
    client.force_login(admin)
    response = client.post("/batches/new/", {"name": "Empty", "kind": "digit"})
    assert translated(code, "Choose some images or a .zip of them.") in response.content.decode()


@pytest.mark.parametrize("code", TRANSLATED)
def test_messages_and_the_audit_come_translated(client, admin, code):
    member = make_official("clerk@first.example", organization=admin.organization)
    client.force_login(admin)
    url = reverse("member-action", args=[member.pk, "suspend"])
    page = in_language(client, code).post(url, follow=True).content.decode()
    assert translated(code, "%(email)s is suspended.", email=member.email) in page
    action = translated(code, "suspended")
    sentence = translated(code, "%(actor)s %(action)s %(subject)s",
                          actor=admin, action=action, subject=member)
    assert sentence in page
    # English, as before the texts were marked.
    page = in_language(client, "en").post(url, follow=True).content.decode()
    assert f"{member.email} is already suspended." in page
    assert f"{admin.email} suspended {member.email}</li>" in page


@pytest.mark.parametrize("code", TRANSLATED)
def test_the_admin_sites_counts_use_the_languages_plurals(client, admin, code):
    members = [make_official(f"clerk{n}@first.example", organization=admin.organization) for n in (1, 2)]
    client.force_login(make_user("staff@digits.example", is_staff=True, is_superuser=True))
    response = in_language(client, code).post(
        reverse("admin:accounts_user_changelist"),
        {"action": "suspend", "_selected_action": [member.pk for member in members]}, follow=True,
    )
    message = "%(count)d suspended."
    one, many = counted(code, message, message, 1), counted(code, message, message, 2)
    assert one.replace("1", "2") != many  # the two forms differ in more than the number
    assert [str(message) for message in response.context["messages"]] == [many]


@pytest.mark.parametrize("code", [*TRANSLATED, "en"])
def test_the_invitation_e_mail_is_in_the_language_of_the_request_that_sent_it(client, admin, code):
    client.force_login(admin)
    in_language(client, code).post(reverse("organization-invite"), {"email": "new@example.com"})
    [message] = mail.outbox
    words = {"inviter": admin.email, "organization": "First Bank"}
    subject = in_catalog(code, "You are invited to join %(organization)s on Digits", **words)
    opening = in_catalog(code, "%(inviter)s invites you to join %(organization)s on Digits as one of its "
                               "bank officials.", **words)
    assert message.subject == subject and message.body.startswith(opening)
    if code == "en":  # as before the texts were marked
        assert message.subject == "You are invited to join First Bank on Digits"
    else:
        assert subject != "You are invited to join First Bank on Digits"


@pytest.mark.django_db
@pytest.mark.parametrize("code", TRANSLATED)
def test_api_errors_outside_the_views_follow_accept_language(client, code):
    response = client.get("/api/v1/no-such-endpoint/", HTTP_ACCEPT_LANGUAGE=code)
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert response.json()["message"] == translated(code, "Not found.")


@pytest.mark.parametrize("code", ["ta", "hi"])
@pytest.mark.parametrize("data, english", [
    (b"plain text", "This file is not an image we can read (PNG, JPEG, GIF, BMP, TIFF or WebP)."),
    (b"", "The file is empty."),
])
def test_the_engines_refusals_are_translated(code, data, english):
    from django.core.exceptions import ValidationError

    from recognition.services import check_image

    with translation.override(code), pytest.raises(ValidationError) as refused:
        check_image("scan.png", data)
    assert refused.value.messages == [in_catalog(code, "“%(name)s”: %(error)s", name="scan.png",
                                                 error=translated(code, english))]
