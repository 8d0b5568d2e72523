"""GET /api/v1/organization/: the official's organization and its members."""

from accounts.services import issue_api_token, suspend_member

from .factories import make_user, token_api_client

URL = "/api/v1/organization/"


def test_an_official_reads_their_organization_and_members(admin, member, other_admin):
    suspend_member(admin, member)
    response = token_api_client(issue_api_token(admin).key).get(URL)
    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["auto_accept_threshold"]) == ("First Bank", None)
    assert [(m["email"], m["is_org_admin"], m["suspended"]) for m in body["members"]] == [
        (admin.email, True, False), (member.email, False, True)]


def test_others_get_404_or_401_in_the_error_format(db):
    response = token_api_client(issue_api_token(make_user("plain@example.com")).key).get(URL)
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert token_api_client("nope").get(URL).status_code == 401


def test_the_schema_documents_it(admin):
    schema = token_api_client(issue_api_token(admin).key).get("/api/v1/schema/").content.decode()
    assert "/api/v1/organization/" in schema and "Member" in schema
