"""Exports: the settled items (or every item) as streamed CSV and JSON, by page and API, to the organization
only."""

import csv
import io
import json
from datetime import timedelta

import pytest
from django.db.models.signals import post_init
from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from batches import exports
from batches.models import Batch, BatchItem
from recognition.models import Prediction
from recognition.tests.test_api import assert_error

from .conftest import api_client

pytestmark = pytest.mark.django_db
READ_AT = timezone.now().replace(microsecond=0) - timedelta(hours=1)


def make_batch(official, items, name="March cheques", threshold=0.9):
    """An amount batch with one item per entry of ``items``: (file name, prediction fields, item fields)."""
    batch = Batch.objects.create(organization=official.organization, created_by=official, name=name,
                                 kind=Batch.Kind.AMOUNT, threshold=threshold)
    predictions = Prediction.objects.bulk_create(
        Prediction(owner=official, kind=Prediction.Kind.NUMBER, image=f"x/{number}.png", width=10, height=10,
                   original_name=file_name, model_version="strings-1", **fields)
        for number, (file_name, fields, _) in enumerate(items)
    )
    BatchItem.objects.bulk_create(
        BatchItem(batch=batch, prediction=prediction, position=number, original_name=prediction.original_name,
                  **item_fields)
        for number, (prediction, (_, _, item_fields)) in enumerate(zip(predictions, items), start=1)
    )
    return batch


def read(confidence, digits="1500", **fields):
    return {"status": "done", "digits": digits, "confidence": confidence, "finished_at": READ_AT, **fields}


@pytest.fixture
def every_state(official, colleague):
    decided = {"decided_by": colleague, "decided_at": READ_AT + timedelta(minutes=5)}
    return make_batch(official, [
        ("pending.png", {}, {}),
        ("unsure.png", read(0.5, "77"), {}),
        ("sure.png", read(0.95, "1250"), {}),
        ("accepted.png", read(0.6, "300"), {"decision": "accepted", "final_value": "300", **decided}),
        ("corrected.png", read(0.4, "18"), {"decision": "corrected", "final_value": "19", **decided}),
        ("rejected.png", read(0.2, "5"), {"decision": "rejected", **decided}),
        ("failed.png", {"status": "failed", "error": "broken", "finished_at": READ_AT}, {}),
    ])


def csv_rows(response):
    assert isinstance(response, StreamingHttpResponse)
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def json_rows(response):
    assert isinstance(response, StreamingHttpResponse)
    return json.loads(b"".join(response.streaming_content))


def page_export(client, batch, file_format, query=""):
    return client.get(reverse(f"batch-export-{file_format}", args=[batch.pk]) + query)


def test_the_csv_holds_the_settled_items_with_their_final_values(official_client, every_state, colleague):
    response = page_export(official_client, every_state, "csv")
    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    rows = csv_rows(response)
    assert list(rows[0]) == exports.COLUMNS
    assert [(r["file_name"], r["state"], r["reading"], r["final_value"]) for r in rows] == [
        ("sure.png", "auto_accepted", "1250", "1250"),
        ("accepted.png", "accepted", "300", "300"),
        ("corrected.png", "corrected", "18", "19"),
    ]
    corrected = rows[2]
    assert corrected["reviewer"] == colleague.email and corrected["confidence"] == "0.4"
    assert corrected["decided_at"] == (READ_AT + timedelta(minutes=5)).isoformat()
    assert corrected["read_at"] == READ_AT.isoformat() and corrected["position"] == "5"
    assert corrected["model_version"] == "strings-1" and corrected["batch_name"] == "March cheques"
    assert rows[0]["reviewer"] == "" and rows[0]["decided_at"] == ""


def test_all_exports_every_item_and_only_settled_ones_have_a_final_value(official_client, every_state):
    rows = json_rows(page_export(official_client, every_state, "json", "?all=1"))
    assert [(r["position"], r["state"], r["final_value"]) for r in rows] == [
        (1, "pending", ""), (2, "needs_review", ""), (3, "auto_accepted", "1250"), (4, "accepted", "300"),
        (5, "corrected", "19"), (6, "rejected", ""), (7, "failed", ""),
    ]
    assert set(rows[0]) == set(exports.COLUMNS)
    assert rows[0]["confidence"] is None and rows[0]["read_at"] is None and rows[0]["reading"] == ""
    assert rows[5]["reading"] == "5"  # the engine's reading stays, the rejection empties the final value


def test_an_accepted_item_without_a_stored_value_exports_its_reading(official_client, official):
    batch = make_batch(official, [("a.png", read(0.3, "42"), {"decision": "accepted"})])
    assert [r["final_value"] for r in json_rows(page_export(official_client, batch, "json"))] == ["42"]


def test_the_download_is_an_attachment_with_a_safe_name(official_client, official):
    batch = make_batch(official, [("a.png", read(0.95), {})], name='../März "cheques"; rm -rf')
    response = page_export(official_client, batch, "json")
    expected = f'attachment; filename="marz-cheques-rm-rf-{str(batch.pk)[:8]}.json"'
    assert response["Content-Disposition"] == expected
    nameless = make_batch(official, [("a.png", read(0.95), {})], name="€€€")
    assert f'filename="batch-{str(nameless.pk)[:8]}.csv"' in page_export(official_client, nameless, "csv")[
        "Content-Disposition"]


def test_cells_a_spreadsheet_would_run_are_escaped(official_client, official):
    batch = make_batch(official, [
        ("=HYPERLINK(1).png", read(0.95), {}), ("+1.png", read(0.95), {}), ("-2.png", read(0.95), {}),
        ("@SUM(A1).png", read(0.95), {}), ("plain=1.png", read(0.95), {}),
    ], name="=cmd|' /C calc'!A0")
    rows = csv_rows(page_export(official_client, batch, "csv"))
    assert [r["file_name"] for r in rows] == ["'=HYPERLINK(1).png", "'+1.png", "'-2.png", "'@SUM(A1).png",
                                              "plain=1.png"]
    assert {r["batch_name"] for r in rows} == {"'=cmd|' /C calc'!A0"}
    # JSON is data, not a sheet: it keeps the names as they are.
    assert json_rows(page_export(official_client, batch, "json"))[0]["file_name"] == "=HYPERLINK(1).png"


def test_2000_items_are_streamed_a_chunk_at_a_time(official, django_assert_max_num_queries):
    batch = make_batch(official, [(f"{n}.png", read(0.95, str(n)), {}) for n in range(2000)])
    built = []

    def count(sender, instance, **kwargs):
        built.append(instance)

    chunks = exports.export(batch, "csv")[0]
    post_init.connect(count, sender=BatchItem)
    try:
        with django_assert_max_num_queries(1):  # one query, read in chunks: no query per row
            first = next(chunks)
            assert len(built) <= exports.CHUNK_SIZE + 1  # the first chunk went out before the rest was read
            rest = list(chunks)
    finally:
        post_init.disconnect(count, sender=BatchItem)
    assert len(built) == 2000
    rows = list(csv.DictReader(io.StringIO(first + "".join(rest))))
    assert len(rows) == 2000 and rows[-1]["final_value"] == "1999"


def test_the_api_exports_csv_and_json(official, every_state):
    client = api_client(official)
    response = client.get(f"/api/v1/batches/{every_state.pk}/export.csv", HTTP_ACCEPT="text/csv")
    assert response.status_code == 200 and "attachment;" in response["Content-Disposition"]
    assert [r["state"] for r in csv_rows(response)] == ["auto_accepted", "accepted", "corrected"]
    response = client.get(f"/api/v1/batches/{every_state.pk}/export.json?all=true")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert len(json_rows(response)) == 7


def test_the_api_refuses_a_bad_all_in_its_error_format(official, every_state):
    response = api_client(official).get(f"/api/v1/batches/{every_state.pk}/export.csv?all=perhaps")
    assert_error(response, 400, field="all")


def test_another_bank_and_non_officials_get_404(client, official, outsider, plain_user, every_state):
    for user in (outsider, plain_user):
        client.force_login(user)
        api = api_client(user)
        for file_format in ("csv", "json"):
            assert page_export(client, every_state, file_format).status_code == 404
            url = f"/api/v1/batches/{every_state.pk}/export.{file_format}"
            assert_error(api.get(url, HTTP_ACCEPT="text/csv"), 404)


def test_anonymous_visitors_log_in_first_and_the_api_answers_401(client, every_state):
    response = page_export(client, every_state, "csv")
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert_error(APIClient().get(f"/api/v1/batches/{every_state.pk}/export.json"), 401)


def test_the_batch_page_links_the_exports(official_client, every_state):
    page = official_client.get(reverse("batch-detail", args=[every_state.pk])).content.decode()
    assert reverse("batch-export-csv", args=[every_state.pk]) in page
    assert reverse("batch-export-json", args=[every_state.pk]) + "?all=1" in page


def test_the_schema_documents_the_exports(official):
    schema = api_client(official).get("/api/v1/schema/").content.decode()
    assert "/api/v1/batches/{id}/export.csv:" in schema and "/api/v1/batches/{id}/export.json:" in schema
    assert "text/csv" in schema and "ExportRow" in schema
