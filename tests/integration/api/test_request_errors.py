"""Every error of the whole app is problem+json under /v1/, saying what to fix: malformed JSON (400, with
line and column), wrong content type (415), a body past the limit (413, naming it), unknown routes (404),
wrong methods (405), and a failure of the server itself (500, no trace)."""

from __future__ import annotations

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient

from onboardflow.api import create_app
from onboardflow.api.event_schemas import ORDER_EVENT, SEGMENT_TRACK

from .conftest import ADMIN, make_api, settings

AUTH = {"Authorization": f"Bearer {ADMIN}"}
JSON = {**AUTH, "Content-Type": "application/json"}
PROBLEM = "application/problem+json"
EVENT_ROUTES = ["/v1/events", "/v1/events/batch", "/v1/segment"]


def problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


@pytest.mark.parametrize("path", EVENT_ROUTES)
def test_malformed_json_is_400_saying_where(memory_api, path):
    body = b'{"id": "e1",\n  "name": "Signed Up",\n  "at": 2026-03-01}'

    answer = problem(memory_api.client.post(path, content=body, headers=JSON), 400)

    assert answer["detail"].startswith("the body is not valid JSON:") and "line 3, column" in answer["detail"]
    assert answer["line"] == 3


@pytest.mark.parametrize(("body", "says"), [
    (b"", "the body is empty"),
    (b"   ", "the body is empty"),
    (b'{"total": NaN}', "expected a JSON value at line 1, column 11"),
    (b'{"id": 12345678901234567890123, "total": NaN}', "NaN is not a JSON value"),  # read by Python's json
    (b"\xff\xfe{", "not valid UTF-8"),
    (b'{"id": 12345678901234567890123, "note": "\xff"}', "the body must be JSON in UTF-8"),
])
def test_bodies_that_are_not_json_are_400(memory_api, body, says):
    answer = problem(memory_api.client.post("/v1/events", content=body, headers=JSON), 400)
    assert says in answer["detail"]


def test_malformed_json_on_a_route_with_a_model_is_400_too(memory_api):
    body = b'{"channel": "email",}'
    answer = memory_api.client.post("/v1/customers/c1/consents", content=body, headers=JSON)

    body = problem(answer, 400)
    assert "line 1, column" in body["detail"]


@pytest.mark.parametrize("path", EVENT_ROUTES)
@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_a_body_that_is_not_json_is_415_saying_what_to_send(memory_api, content_type, path):
    headers = {**AUTH, **({"Content-Type": content_type} if content_type else {})}

    answer = problem(memory_api.client.post(path, content=b'{"id": 1}', headers=headers), 415)

    assert "Content-Type: application/json" in answer["detail"]
    assert (content_type or "no Content-Type") in answer["detail"]


def test_a_compressed_body_is_415(memory_api):
    headers = {**JSON, "Content-Encoding": "gzip"}
    answer = problem(memory_api.client.post("/v1/events", content=b"\x1f\x8b", headers=headers), 415)
    assert "send the body uncompressed" in answer["detail"]


def test_a_json_type_with_parameters_or_a_suffix_is_taken(memory_api):
    for content_type in ("application/json; charset=utf-8", "application/vnd.shop+json"):
        headers = {**AUTH, "Content-Type": content_type}
        answer = memory_api.client.post("/v1/events", content=b'{"id": 1}', headers=headers)
        assert answer.status_code == 422  # read as JSON: the event itself is what is wrong


def test_a_body_past_the_limit_is_413_naming_the_limit(store):
    api = make_api(store, max_body_bytes=4096, max_batch_body_bytes=8192)
    big = {**ORDER_EVENT, "properties": {"note": "x" * 5000}}

    single = problem(api.client.post("/v1/events", json=big, headers=AUTH), 413)
    assert "(4 KiB)" in single["detail"] and single["limit_bytes"] == 4096

    batch = api.client.post("/v1/events/batch", json={"events": [big]}, headers=AUTH)
    assert batch.status_code == 202  # 5 KB is within the batch routes' limit
    too_long = problem(api.client.post("/v1/events/batch", json={"events": [big, big]}, headers=AUTH), 413)
    assert "(8 KiB)" in too_long["detail"]
    too_big = problem(api.client.post("/v1/segment", json={"batch": [SEGMENT_TRACK] * 40}, headers=AUTH), 413)
    assert "(8 KiB)" in too_big["detail"]


def test_a_body_sent_in_chunks_is_counted_as_it_arrives(memory_api):
    api = make_api(memory_api.store, max_body_bytes=2048)

    def chunks():
        yield b'{"id": "e1", "properties": {"note": "'
        for _ in range(10):
            yield b"x" * 500
        yield b'"}}'

    answer = problem(api.client.post("/v1/events", content=chunks(), headers=JSON), 413)
    assert "(2 KiB)" in answer["detail"]


def test_the_limits_are_settings_with_defaults_of_1_and_5_mib():
    defaults = settings()
    assert (defaults.max_body_bytes, defaults.max_batch_body_bytes) == (1 << 20, 5 << 20)


@pytest.mark.parametrize(("method", "path", "status", "says"), [
    ("GET", "/v1/nothing-here", 404, "there is no route /v1/nothing-here"),
    ("POST", "/v1/nothing-here", 404, "the routes are listed at /docs"),
    ("GET", "/v1/events", 405, "GET is not taken at /v1/events: use POST"),
    ("DELETE", "/v1/segment", 405, "use POST"),
])
def test_unknown_routes_and_methods_are_problems_too(memory_api, method, path, status, says):
    answer = problem(memory_api.client.request(method, path, headers=AUTH), status)
    assert says in answer["detail"]


def test_a_failure_of_the_server_is_a_500_problem_without_a_trace(store):
    app = create_app(store=store, settings=settings())
    broken = APIRouter()

    @broken.get("/v1/broken")
    def fail() -> None:
        raise RuntimeError("secret internals")

    app.include_router(broken)
    client = TestClient(app, raise_server_exceptions=False)

    body = problem(client.get("/v1/broken", headers=AUTH), 500)

    assert "secret internals" not in body["detail"] and "Traceback" not in body["detail"]
    assert "send it again" in body["detail"]


def test_pages_for_people_keep_their_html_errors(memory_api):
    answer = memory_api.client.get("/unsubscribe/not-a-token")
    assert answer.status_code == 400 and answer.headers["content-type"].startswith("text/html")


def test_a_failure_inside_an_event_route_is_a_500_problem_too(store, monkeypatch):
    app = create_app(store=store, settings=settings())

    async def broken(body, **options):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(app.state.intake, "event", broken)
    client = TestClient(app, raise_server_exceptions=False)

    body = problem(client.post("/v1/events", json=ORDER_EVENT, headers=AUTH), 500)

    assert "secret internals" not in body["detail"]
