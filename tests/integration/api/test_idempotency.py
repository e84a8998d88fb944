"""Idempotency-Key on the event routes, on every store, as Stripe has it: the same key and body get the
first answer again, another body gets a 409, keys are per API key, errors leave the key free, and a key
is kept for 24 hours."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from onboardflow.api.event_schemas import DELIVERED_EVENT, ORDER_EVENT
from onboardflow.api.idempotency import REPLAYED, fingerprint
from onboardflow.api.keys import mint
from onboardflow.ports import IdempotencyRecord

from .conftest import ADMIN, T0

AUTH = {"Authorization": f"Bearer {ADMIN}"}
JSON = {**AUTH, "Content-Type": "application/json"}


def post(api, body, key: str | None = "order-o_9", path: str = "/v1/events", auth=AUTH):
    headers = {**auth, **({"Idempotency-Key": key} if key is not None else {})}
    return api.client.post(path, json=body, headers=headers)


def test_the_same_key_and_body_get_the_first_answer_again_marked_replayed(api):
    first = post(api, ORDER_EVENT)
    api.engine.work()
    again = post(api, ORDER_EVENT)

    assert first.status_code == again.status_code == 202
    assert again.json() == first.json()
    assert first.json() == {"accepted": 1, "queued": ["evt_01"], "duplicates": [], "errors": []}
    assert again.headers[REPLAYED] == "true" and REPLAYED not in first.headers
    assert again.headers["content-type"] == "application/json"


def test_the_same_key_with_another_body_is_409_and_nothing_is_queued(api):
    post(api, ORDER_EVENT)

    other = post(api, DELIVERED_EVENT)

    assert other.status_code == 409 and other.headers["content-type"] == "application/problem+json"
    assert "'order-o_9' was used 0 s ago for another request" in other.json()["detail"]
    assert "use a new key for a new request" in other.json()["detail"]
    assert api.store.counts()["queued"] == 1


def test_the_same_key_on_another_route_is_another_request(api):
    post(api, ORDER_EVENT)
    assert post(api, {"events": [ORDER_EVENT]}, path="/v1/events/batch").status_code == 409


def test_a_request_still_in_flight_makes_its_retry_409(api):
    body = json.dumps(ORDER_EVENT).encode()
    first = IdempotencyRecord("admin-token", "order-o_9", fingerprint("POST", "/v1/events", body), T0, T0)
    api.store.claim_idempotency_key(first, stale_before=T0, expired_before=T0)  # as its request does

    retry = api.client.post("/v1/events", content=body, headers={**JSON, "Idempotency-Key": "order-o_9"})

    assert retry.status_code == 409 and retry.headers["retry-after"] == "1"
    assert "is still being answered: retry in a moment" in retry.json()["detail"]
    api.clock.advance(timedelta(seconds=61))  # its process died: after a minute a retry takes over
    taken_over = api.client.post("/v1/events", content=body, headers={**JSON, "Idempotency-Key": "order-o_9"})
    assert taken_over.json()["queued"] == ["evt_01"]


def test_keys_belong_to_their_api_key(memory_api):
    record, storefront = mint("storefront", ["ingest"], now=T0)
    memory_api.store.save_api_key(record)

    post(memory_api, ORDER_EVENT)
    theirs = post(memory_api, DELIVERED_EVENT, auth={"Authorization": f"Bearer {storefront}"})

    assert theirs.status_code == 202 and theirs.json()["queued"] == ["evt_02"]


def test_an_error_answer_leaves_the_key_free_for_the_corrected_request(memory_api):
    bad = post(memory_api, {**ORDER_EVENT, "at": "yesterday"})
    fixed = post(memory_api, ORDER_EVENT)

    assert bad.status_code == 422
    assert fixed.status_code == 202 and fixed.json()["queued"] == ["evt_01"]


def test_a_key_is_kept_24_hours_then_it_is_a_new_request(memory_api):
    post(memory_api, ORDER_EVENT)
    memory_api.clock.advance(timedelta(hours=23, minutes=59))
    assert post(memory_api, DELIVERED_EVENT).status_code == 409

    memory_api.clock.advance(timedelta(minutes=2))
    later = post(memory_api, DELIVERED_EVENT)

    assert later.status_code == 202 and later.json()["queued"] == ["evt_02"]


def test_old_records_are_purged_as_requests_come(memory_api):
    post(memory_api, ORDER_EVENT, key="day-one")
    memory_api.clock.advance(timedelta(hours=25))
    post(memory_api, DELIVERED_EVENT, key="day-two")

    assert memory_api.store.idempotency_record("admin-token", "day-one") is None
    assert memory_api.store.idempotency_record("admin-token", "day-two").status == 202


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\there"])
def test_a_key_that_is_not_one_is_400(memory_api, key):
    answer = post(memory_api, ORDER_EVENT, key=key)
    assert answer.status_code == 400 and "1 to 255 printable characters" in answer.json()["detail"]


def test_without_a_key_nothing_is_kept(memory_api):
    post(memory_api, ORDER_EVENT, key=None)
    assert memory_api.store.idempotency == {}


def test_segment_calls_take_an_idempotency_key_too(memory_api):
    from onboardflow.api.event_schemas import SEGMENT_IDENTIFY, SEGMENT_TRACK

    first = post(memory_api, SEGMENT_TRACK, key="seg-1", path="/v1/segment")
    again = post(memory_api, SEGMENT_TRACK, key="seg-1", path="/v1/segment")
    other = post(memory_api, SEGMENT_IDENTIFY, key="seg-1", path="/v1/segment")

    assert first.status_code == 202 and again.headers[REPLAYED] == "true" and again.json() == first.json()
    assert other.status_code == 409
