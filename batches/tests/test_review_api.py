"""The review API: items with filters, one item with its history, review actions, bulk accept, isolation."""

import pytest
from rest_framework.test import APIClient

from batches import selectors, services
from batches.models import BatchItem, ReviewAction

from .conftest import api_client, read_batch

pytestmark = pytest.mark.django_db
State = BatchItem.State


@pytest.fixture
def queue(official):
    return read_batch(official, [("500", 0.5), ("300", 0.3), ("", 0.8), ("999", 0.999), None])


@pytest.fixture
def api(official):
    return api_client(official)


def items_url(batch, item=None, tail=""):
    url = f"/api/v1/batches/{batch.pk}/items/"
    return f"{url}{item.pk}/{tail}" if item else url


def test_the_items_filter_and_order(api, queue):
    batch, items = queue
    body = api.get(items_url(batch), {"ordering": "confidence"}).json()
    assert body["count"] == 5
    # Pending (no confidence) first, then by confidence; "" is also nothing found at 0.8.
    assert [r["digits"] for r in body["results"]] == ["", "300", "500", "", "999"]
    body = api.get(items_url(batch), {"state": "needs_review", "ordering": "-confidence"}).json()
    assert [r["digits"] for r in body["results"]] == ["", "500", "300"]
    body = api.get(items_url(batch), {"confidence_below": 0.6}).json()
    assert [r["id"] for r in body["results"]] == [items[0].pk, items[1].pk]
    body = api.get(items_url(batch), {"page_size": 2, "page": 2}).json()
    assert [r["id"] for r in body["results"]] == [items[2].pk, items[3].pk] and body["next"]


@pytest.mark.parametrize("query, field", [
    ({"state": "maybe"}, "state"), ({"confidence_below": "2"}, "confidence_below"),
    ({"ordering": "name"}, "ordering"),
])
def test_bad_filters_get_400_in_the_error_format(api, queue, query, field):
    response = api.get(items_url(queue[0]), query)
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"status", "code", "message", "errors"} and field in body["errors"]


def test_one_item_with_boxes_and_history(api, official, queue):
    batch, (five, *_) = queue
    five.prediction.characters = [{"digit": "5", "box": [1, 2, 10, 20], "confidence": 0.5}]
    five.prediction.save(update_fields=["characters"])
    services.correct(official, five, "550")
    body = api.get(items_url(batch, five)).json()
    assert (body["digits"], body["final_value"]) == ("500", "550")
    assert body["state"] == body["decision"] == "corrected"
    assert body["characters"][0]["box"] == [1, 2, 10, 20] and body["decided_by"] == official.email
    assert body["history"] == [{
        "actor": official.email, "action": "correct", "state_before": "needs_review",
        "state_after": "corrected", "value_before": "500", "value_after": "550",
        "created_at": body["history"][0]["created_at"],
    }]
    assert body["image_url"].endswith(f"/api/v1/batches/{batch.pk}/items/{five.pk}/image/")
    image = api.get(body["image_url"])
    assert image.status_code == 200 and image["Content-Type"] == "image/png"
    assert b"".join(image.streaming_content) == five.prediction.image.read()


def test_review_actions(api, queue):
    batch, (five, three, nothing, *_) = queue
    response = api.post(items_url(batch, five, "review/"), {"action": "accept"}, format="json")
    assert response.status_code == 200 and response.json()["state"] == "accepted"
    payload = {"action": "correct", "value": "330"}
    body = api.post(items_url(batch, three, "review/"), payload, format="json").json()
    assert (body["state"], body["final_value"], body["digits"]) == ("corrected", "330", "300")
    response = api.post(items_url(batch, nothing, "review/"), {"action": "reject"}, format="json")
    assert response.json()["state"] == "rejected"
    body = api.post(items_url(batch, three, "review/"), {"action": "undo"}, format="json").json()
    assert (body["state"], body["final_value"]) == ("needs_review", "")
    assert [a["action"] for a in body["history"]] == ["correct", "undo"]


@pytest.mark.parametrize("payload, field, code", [
    ({"action": "correct", "value": "12a"}, "value", "not_digits"),
    ({"action": "correct"}, "value", "required"),
    ({"action": "approve"}, "action", "invalid_choice"),
    ({"action": "undo"}, "action", "nothing_to_undo"),
])
def test_bad_reviews_get_400(api, queue, payload, field, code):
    batch, (five, *_) = queue
    response = api.post(items_url(batch, five, "review/"), payload, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == code and field in response.json()["errors"]
    assert not ReviewAction.objects.exists()


def test_a_pending_item_cannot_be_reviewed(api, queue):
    batch, items = queue
    response = api.post(items_url(batch, items[4], "review/"), {"action": "accept"}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "not_reviewable"


def test_another_reviewers_claim_is_a_409(api, colleague, queue):
    batch, (five, *_) = queue
    services.claim(colleague, five)
    response = api.post(items_url(batch, five, "review/"), {"action": "accept"}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "claimed"
    assert "colleague@first.example is reviewing" in response.json()["message"]
    assert api.get(items_url(batch, five)).json()["claimed_by"] == colleague.email
    assert selectors.state_of(five) == State.NEEDS_REVIEW


def test_accept_above(api, queue):
    batch, items = queue
    url = f"/api/v1/batches/{batch.pk}/accept-above/"
    assert api.post(url, {"confidence": 0.4}, format="json").json() == {"accepted": 1}
    states = [selectors.state_of(i) for i in items[:3]]
    assert states == [State.ACCEPTED, State.NEEDS_REVIEW, State.NEEDS_REVIEW]
    response = api.post(url, {"confidence": 1.2}, format="json")
    assert response.status_code == 400 and "confidence" in response.json()["errors"]


def test_other_banks_other_people_and_anonymous(queue, outsider, plain_user):
    batch, (five, *_) = queue
    calls = [
        ("get", items_url(batch), None), ("get", items_url(batch, five), None),
        ("get", items_url(batch, five, "image/"), None),
        ("post", items_url(batch, five, "review/"), {"action": "reject"}),
        ("post", f"/api/v1/batches/{batch.pk}/accept-above/", {"confidence": 0.1}),
    ]
    for client, code in ((api_client(outsider), 404), (api_client(plain_user), 404), (APIClient(), 401)):
        for method, url, payload in calls:
            response = getattr(client, method)(url, payload, format="json")
            assert response.status_code == code, (method, url)
            assert response.json()["status"] == code
    assert not ReviewAction.objects.exists()


def test_an_item_of_another_batch_is_404(api, official, queue):
    other, (item,) = read_batch(official, [("1", 0.5)], name="Other")
    assert api.get(items_url(queue[0], item)).status_code == 404


def test_the_schema_documents_the_review_endpoints(api):
    schema = api.get("/api/v1/schema/", {"format": "json"}).json()
    paths = schema["paths"]
    assert "/api/v1/batches/{id}/items/" in paths and "/api/v1/batches/{id}/accept-above/" in paths
    review = paths["/api/v1/batches/{id}/items/{item_id}/review/"]["post"]
    assert "409" in review["responses"] and "requestBody" in review
    assert {p["name"] for p in paths["/api/v1/batches/{id}/items/"]["get"]["parameters"]} >= {
        "state", "confidence_below", "ordering", "page"}
