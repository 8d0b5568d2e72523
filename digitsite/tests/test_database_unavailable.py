import pytest
from django.db import OperationalError

from accounts.services import issue_api_token
from accounts.tests.factories import make_user, token_api_client
from recognition import selectors


@pytest.mark.django_db
def test_a_lost_database_connection_answers_503_with_retry_after_in_the_error_format(monkeypatch):
    client = token_api_client(issue_api_token(make_user()).key)

    def lost(*args, **kwargs):
        raise OperationalError("terminating connection due to administrator command")

    monkeypatch.setattr(selectors, "predictions_of", lost)
    response = client.get("/api/v1/predictions/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json() == {
        "status": 503, "code": "unavailable",
        "message": "The service is briefly unavailable. Please try again in a few seconds.", "errors": {},
    }
