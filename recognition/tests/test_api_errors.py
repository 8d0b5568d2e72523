"""Hostile and malformed requests: every one gets a 4xx in the API's one error format, never a 500."""

import io
import json
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st
from rest_framework.test import APIClient

from recognition.models import Prediction

from .conftest import sample, stored_files
from .test_api import LIST, assert_error, detail, send

pytestmark = pytest.mark.django_db

TOKEN = "/api/v1/auth/token/"


def nested(depth):
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_deeply_nested_json_is_a_400(api, depth):
    for client, path in ((api, LIST), (APIClient(), TOKEN)):
        response = client.post(path, nested(depth), content_type="application/json")
        assert_error(response, 400, code="parse_error", text="nested")
    body = '{"image": ' + nested(depth) + "}"
    assert_error(api.post(LIST, body, content_type="application/json"), 400, code="parse_error")
    assert not Prediction.objects.exists()


@pytest.mark.parametrize("suffix", ["{pk}.json", "{pk}/image.json", ".json"])
def test_format_suffix_paths_are_a_404_in_the_error_format(api, suffix):
    pk = send(api).json()["id"]
    path = LIST.rstrip("/") + suffix.format(pk=pk) if suffix == ".json" else LIST + suffix.format(pk=pk)
    assert_error(api.get(path), 404, code="not_found")


def test_a_body_over_the_size_limit_is_a_413_in_the_error_format(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"image": "A" * 2000})
    response = api.post(LIST, body, content_type="application/json")
    assert_error(response, 413, code="too_large", text="1,000 bytes")
    assert not Prediction.objects.exists()


def test_form_fields_over_the_size_limit_are_a_413_in_the_error_format(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = api.post(LIST, {"image": "A" * 2000}, format="multipart")
    assert_error(response, 413, code="too_large")


def test_an_image_one_byte_over_the_limit_says_numbers_that_differ(api, settings, media_root):
    settings.RECOGNITION_MAX_UPLOAD_BYTES = 10 * 1024 * 1024
    response = send(api, name="big.png", data=b"\0" * (settings.RECOGNITION_MAX_UPLOAD_BYTES + 1))
    assert_error(response, 413, code="too_large", text="is 10,485,761 bytes; the limit is 10,485,760 bytes")
    assert stored_files(media_root) == []


def test_two_files_in_the_image_field_are_refused(api, media_root):
    images = []
    for name in ("scan_3.jpg", "canvas_7.png"):
        image = io.BytesIO(sample(name))
        image.name = name
        images.append(image)
    response = api.post(LIST, {"image": images}, format="multipart")
    assert_error(response, 400, code="too_many", field="image", text="one image")
    assert not Prediction.objects.exists() and stored_files(media_root) == []


def test_a_list_of_images_in_json_is_refused(api):
    response = api.post(LIST, {"image": ["AAAA", "AAAA"]}, format="json")
    assert_error(response, 400, code="too_many", field="image")


def test_router_and_parser_errors_come_in_the_error_format(api):
    assert_error(api.get("/api/v1/nothing-here/"), 404, code="not_found")
    assert_error(api.get(detail("not-a-uuid")), 404, code="not_found")
    assert_error(api.put(LIST), 405, code="method_not_allowed")
    assert_error(api.get(LIST, HTTP_ACCEPT="application/xml"), 406, code="not_acceptable")
    assert_error(api.post(LIST, "image", content_type="text/plain"), 415, code="unsupported_media_type")
    assert_error(api.post(LIST, "{", content_type="application/json"), 400, code="parse_error")


@hypothesis_settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
        lambda inner: st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(["image", "name", "email", "password"]) | st.text(max_size=8),
                          inner),
        max_leaves=20,
    ),
    wait=st.none() | st.text(max_size=8) | st.floats().map(str),
    key=st.none() | st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=300),
)
def test_hostile_json_never_gets_a_5xx(api, body, wait, key):
    headers = {} if key is None else {"HTTP_IDEMPOTENCY_KEY": key}
    query = {} if wait is None else {"QUERY_STRING": urlencode({"wait": wait})}
    for client, path in ((api, LIST), (APIClient(), TOKEN)):
        response = client.post(path, json.dumps(body), content_type="application/json", **headers, **query)
        assert response.status_code < 500, response.content
        if response.status_code >= 400:
            assert set(response.json()) == {"status", "code", "message", "errors"}


def test_too_many_files_or_fields_are_a_400_in_the_error_format(api, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 2
    files = {f"file{number}": io.BytesIO(b"x") for number in range(3)}
    assert_error(api.post(LIST, files, format="multipart"), 400, code="too_many", text="at most 2 files")
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 2
    fields = {f"field{number}": "x" for number in range(3)}
    assert_error(api.post(LIST, fields, format="multipart"), 400, code="too_many")


def test_an_unexpected_error_is_a_500_in_the_error_format(api, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr("recognition.selectors.predictions_of", broken)
    api.raise_request_exception = False
    assert_error(api.get(LIST), 500, code="server_error")


@hypothesis_settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    params=st.dictionaries(
        st.sampled_from(["digit", "status", "date_from", "date_to", "page", "page_size", "format", "wait"]),
        st.text(max_size=12) | st.integers().map(str),
    ),
    tail=st.text(st.characters(min_codepoint=33, max_codepoint=0x2FF, exclude_characters="?#"), max_size=40),
)
def test_hostile_queries_and_paths_never_get_a_5xx(api, params, tail):
    for response in (api.get(LIST, params), api.get(LIST + tail, params), api.delete(LIST + tail)):
        assert response.status_code < 500, response.content
        if response.status_code >= 400:
            assert set(response.json()) == {"status", "code", "message", "errors"}
