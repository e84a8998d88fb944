"""POST /v1/segment over HTTP, on every store: Segment's track and identify calls and its batch, with the
write key as Segment sends it (HTTP Basic user name) or as a Bearer token; what workers make of them."""

from __future__ import annotations

import base64

from onboardflow.api.event_schemas import SEGMENT_IDENTIFY, SEGMENT_TRACK
from onboardflow.api.keys import mint
from onboardflow.integrations.segment import IDENTIFY
from onboardflow.ports import PARTITIONS

from .conftest import T0

PAGE = {"type": "page", "messageId": "ajs-page-1", "userId": "c_42", "name": "Home"}


def write_key(api, *scopes: str) -> str:
    record, key = mint("segment", scopes or ("ingest",), now=T0)
    api.store.save_api_key(record)
    return key


def basic(key: str, password: str = "") -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:{password}".encode()).decode()}


def test_a_segment_batch_is_queued_and_workers_apply_identify_then_track(api):
    body = {"batch": [SEGMENT_IDENTIFY, SEGMENT_TRACK, PAGE], "sentAt": "2026-03-01T10:00:01Z"}

    answer = api.client.post("/v1/segment", json=body, headers=basic(write_key(api)))

    assert answer.status_code == 202
    assert answer.json() == {
        "accepted": 2, "queued": ["ajs-next-77aa", "ajs-next-1f2e"], "duplicates": [], "errors": [],
        "ignored": [{"index": 2, "type": "page",
                     "detail": "'page' calls are not used; onboardflow takes track and identify"}],
    }
    api.engine.work(partitions=PARTITIONS)
    profile = api.store.customer("c_42")
    assert (profile.email, profile.phone, profile.country, profile.locale) == (
        "ana@example.com", "+15551234567", "US", "en-US")
    assert profile.timezone == "America/New_York" and profile.traits["firstName"] == "Ana"
    assert profile.orders_count == 1
    with api.store.transaction() as tx:
        assert tx.known_event_ids(["ajs-next-77aa", "ajs-next-1f2e"]) == {"ajs-next-77aa", "ajs-next-1f2e"}


def test_a_single_call_with_a_bearer_key_and_its_retry(memory_api):
    headers = {"Authorization": f"Bearer {write_key(memory_api)}"}

    first = memory_api.client.post("/v1/segment", json=SEGMENT_TRACK, headers=headers)
    again = memory_api.client.post("/v1/segment", json=SEGMENT_TRACK, headers=headers)

    assert first.json()["queued"] == ["ajs-next-1f2e"]
    assert again.status_code == 202 and again.json()["duplicates"] == ["ajs-next-1f2e"]


def test_an_identify_call_is_queued_as_an_identify_event(memory_api):
    memory_api.client.post("/v1/segment", json=SEGMENT_IDENTIFY, headers=basic(write_key(memory_api)))

    queued = next(iter(memory_api.store.queue.values())).event
    assert (queued.name, queued.customer_id) == (IDENTIFY, "c_42")
    assert queued.customer["email"] == "ana@example.com"


def test_bad_calls_in_a_batch_are_named_in_segment_terms_and_the_good_ones_taken(memory_api):
    calls = [SEGMENT_TRACK, {"type": "track", "messageId": "m2", "userId": "c_1"},
             {"type": "track", "messageId": "m3", "event": "Signed Up"},
             {**SEGMENT_TRACK, "messageId": "m4", "timestamp": "2026-03-01 10:00"}]

    headers = basic(write_key(memory_api))
    answer = memory_api.client.post("/v1/segment", json={"batch": calls}, headers=headers)

    errors = answer.json()["errors"]
    assert answer.status_code == 202 and answer.json()["queued"] == ["ajs-next-1f2e"]
    assert [(error["index"], error["id"]) for error in errors] == [(1, "m2"), (2, "m3"), (3, "m4")]
    assert "missing field 'event'" in errors[0]["detail"]
    assert "give 'userId'" in errors[1]["detail"]
    assert "'timestamp' has no time zone" in errors[2]["detail"]


def test_a_call_of_no_use_alone_is_answered_as_ignored_not_refused(memory_api):
    answer = memory_api.client.post("/v1/segment", json=PAGE, headers=basic(write_key(memory_api)))

    assert answer.status_code == 202
    assert answer.json()["accepted"] == 0 and answer.json()["ignored"][0]["type"] == "page"


def test_a_wholly_bad_segment_body_is_422(memory_api):
    headers = basic(write_key(memory_api))
    for body, says in (({"type": "track"}, "give 'userId'"), ({"batch": "x"}, "'batch' must be a list"),
                       ({"batch": []}, "'batch' is empty"), (["x"], "a Segment call")):
        answer = memory_api.client.post("/v1/segment", json=body, headers=headers)
        assert answer.status_code == 422 and says in answer.json()["detail"], answer.text


def test_the_write_key_must_be_an_ingest_key(memory_api):
    unknown = memory_api.client.post("/v1/segment", json=SEGMENT_TRACK, headers=basic("obf_000000000000_x"))
    assert unknown.status_code == 401
    assert unknown.headers["www-authenticate"] == 'Basic realm="onboardflow", Bearer'

    reading_key = basic(write_key(memory_api, "read"))
    reader = memory_api.client.post("/v1/segment", json=SEGMENT_TRACK, headers=reading_key)
    assert reader.status_code == 403 and "--scopes ingest" in reader.json()["detail"]

    nothing = memory_api.client.post("/v1/segment", json=SEGMENT_TRACK)
    assert nothing.status_code == 401 and nothing.headers["content-type"] == "application/problem+json"

    not_base64 = {"Authorization": "Basic %%%"}
    garbled = memory_api.client.post("/v1/segment", json=SEGMENT_TRACK, headers=not_base64)
    assert garbled.status_code == 401 and garbled.headers["content-type"] == "application/problem+json"


def test_basic_auth_is_for_the_segment_route_only(memory_api):
    answer = memory_api.client.post("/v1/events", json={}, headers=basic(write_key(memory_api)))
    assert answer.status_code == 401
