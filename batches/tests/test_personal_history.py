"""A batch's items belong to the organization's batch, not to the sender's own history."""

from rest_framework.authtoken.models import Token

from accounts.tests.factories import token_api_client
from recognition.models import Prediction

from .conftest import read_batch


def test_batch_items_stay_out_of_the_senders_own_pages_and_api(official, official_client):
    batch, items = read_batch(official, [("150", 0.9)])
    prediction = items[0].prediction
    own = Prediction.objects.create(owner=official, width=28, height=28, image="own.png")
    api = token_api_client(Token.objects.create(user=official).key)

    history = official_client.get("/predictions/")
    assert str(own.pk) in history.content.decode() and str(prediction.pk) not in history.content.decode()
    assert official_client.get(f"/predictions/{prediction.pk}/").status_code == 404
    assert official_client.post(f"/predictions/{prediction.pk}/delete/").status_code == 404
    assert [p["id"] for p in api.get("/api/v1/predictions/").json()["results"]] == [str(own.pk)]
    assert api.get(f"/api/v1/predictions/{prediction.pk}/").status_code == 404
    assert api.delete(f"/api/v1/predictions/{prediction.pk}/").status_code == 404
    # Still whole, and still reached through its batch.
    assert batch.items.get().prediction_id == prediction.pk
    assert official_client.get(f"/review/{items[0].pk}/").status_code == 200
