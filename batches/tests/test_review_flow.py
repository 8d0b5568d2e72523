"""A batch read by a real Celery worker, then reviewed to the end through the API."""

import pytest

from batches import selectors
from batches.models import Batch
from recognition.tests.conftest import number_png, sample

from .conftest import api_client, upload
from .test_flow import wait_until_finished

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_read_batch_is_reviewed_to_the_end(official, official_client, celery_worker):
    api = api_client(official)
    files = [upload("a.png", number_png()), upload("b.jpg", sample("scan_4.jpg")),
             upload("c.png", number_png())]
    response = api.post("/api/v1/batches/", {"name": "Amounts", "kind": "amount", "files": files})
    assert response.status_code == 201
    batch = Batch.objects.get()
    wait_until_finished(official_client, batch)
    items_url = f"/api/v1/batches/{batch.pk}/items/"

    items = api.get(items_url, {"ordering": "confidence"}).json()["results"]
    assert len(items) == 3 and not any(item["state"] == "pending" for item in items)
    for item in items:
        # Unsure readings are accepted (or rejected when nothing was read); sure ones corrected, as a
        # reviewer who spots a mistake among the automatically accepted would.
        if item["state"] == "needs_review":
            payload = {"action": "accept"} if item["digits"] else {"action": "reject"}
        elif item["state"] == "auto_accepted":
            payload = {"action": "correct", "value": f"{item['digits']}0"}
        else:
            continue  # failed: nothing to review
        reply = api.post(f"{items_url}{item['id']}/review/", payload, format="json")
        assert reply.status_code == 200, reply.json()
        assert reply.json()["history"][-1]["actor"] == official.email

    counts = selectors.counts_of(selectors.batch_of(official, batch.pk))
    assert counts["needs_review"] == counts["auto_accepted"] == counts["pending"] == 0
    assert counts["accepted"] + counts["corrected"] + counts["rejected"] + counts["failed"] == 3
    assert batch not in selectors.open_batches_of(official)
