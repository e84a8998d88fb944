"""POST /v1/events and /v1/events/batch over HTTP, on every store: events are queued for the workers
(and then processed by them), duplicates are named, a batch takes its good events and names the bad
ones by index, and every refusal is problem+json saying what to fix."""

from __future__ import annotations

import pytest

from onboardflow.api.event_schemas import DELIVERED_EVENT, ORDER_EVENT
from onboardflow.api.keys import mint
from onboardflow.ports import PARTITIONS

from .conftest import ADMIN, T0

AUTH = {"Authorization": f"Bearer {ADMIN}"}
PROBLEM = "application/problem+json"


def queued_ids(api) -> list[str]:
    with api.store.transaction() as tx:
        return [q.event.id for q in tx.queued_events(range(PARTITIONS), limit=10_000)]


def post(api, path: str, body, **headers):
    return api.client.post(path, json=body, headers={**AUTH, **headers})


def event(event_id: str, **changes) -> dict:
    return {**ORDER_EVENT, "id": event_id, **changes}


def test_one_event_is_queued_and_answered_202_with_its_id(api):
    answer = post(api, "/v1/events", ORDER_EVENT)

    assert answer.status_code == 202
    assert answer.json() == {"accepted": 1, "queued": ["evt_01"], "duplicates": [], "errors": []}
    assert queued_ids(api) == ["evt_01"]


def test_the_same_event_again_is_a_duplicate_and_queues_nothing(api):
    post(api, "/v1/events", ORDER_EVENT)

    again = post(api, "/v1/events", ORDER_EVENT)

    assert again.status_code == 202
    assert again.json() == {"accepted": 1, "queued": [], "duplicates": ["evt_01"], "errors": []}
    assert queued_ids(api) == ["evt_01"]


def test_an_event_already_processed_by_a_worker_is_a_duplicate(api):
    post(api, "/v1/events", ORDER_EVENT)
    api.engine.work(partitions=PARTITIONS)

    again = post(api, "/v1/events", ORDER_EVENT)

    assert again.json()["duplicates"] == ["evt_01"] and queued_ids(api) == []
    assert [event_id for event_id, _ in api.store.customer_events("c_42")] == ["evt_01"]


def test_queued_events_are_what_the_workers_process(api):
    post(api, "/v1/events/batch", {"events": [ORDER_EVENT, DELIVERED_EVENT]})

    api.engine.work(partitions=PARTITIONS)

    profile = api.store.customer("c_42")
    assert profile.email == "ana@example.com" and profile.orders_count == 1
    assert [event_id for event_id, _ in api.store.customer_events("c_42")] == ["evt_01", "evt_02"]


def test_a_bad_event_is_422_saying_what_to_fix_and_nothing_is_queued(api):
    answer = post(api, "/v1/events", event("e1", at="2026-03-01T10:00:00", customer={"timezone": "Mars/X"}))

    assert answer.status_code == 422 and answer.headers["content-type"] == PROBLEM
    problem = answer.json()
    assert "'at' has no time zone" in problem["detail"] and "Mars/X" in problem["detail"]
    assert problem["errors"][0]["index"] == 0 and problem["errors"][0]["id"] == "e1"
    assert queued_ids(api) == []


def test_a_batch_takes_its_good_events_and_names_each_bad_one_by_index(api):
    batch = [event("e0"), {"id": "e1", "name": "Signed Up"}, event("e2"), event("e3", properties=[1]),
             event("e0")]

    answer = post(api, "/v1/events/batch", {"events": batch})

    assert answer.status_code == 202
    body = answer.json()
    assert (body["accepted"], body["queued"], body["duplicates"]) == (3, ["e0", "e2"], ["e0"])
    assert [(error["index"], error["id"]) for error in body["errors"]] == [(1, "e1"), (3, "e3")]
    assert "missing field 'customer_id'; missing field 'at'" in body["errors"][0]["detail"]
    assert "'properties' must be an object" in body["errors"][1]["detail"]
    assert sorted(queued_ids(api)) == ["e0", "e2"]


def test_a_batch_with_no_good_event_is_422_listing_every_error(api):
    batch = [{"id": f"e{n}"} for n in range(5)]

    answer = post(api, "/v1/events/batch", {"events": batch})

    assert answer.status_code == 422 and answer.headers["content-type"] == PROBLEM
    problem = answer.json()
    assert problem["detail"].startswith("no event was taken: [0] missing field 'name'")
    assert "and 2 more (see errors)" in problem["detail"]
    assert [error["index"] for error in problem["errors"]] == [0, 1, 2, 3, 4]
    assert queued_ids(api) == []


@pytest.mark.parametrize(("body", "says"), [
    ([ORDER_EVENT], "a batch is a JSON object {\"events\": [...]}"),
    ({"event": [ORDER_EVENT]}, "got an object with 'event'"),
    ({"events": []}, "'events' is empty: send at least one event"),
    ({"events": [ORDER_EVENT] * 1001}, "'events' has 1,001 items; a batch takes up to 1,000: split it"),
    ({"events": [ORDER_EVENT], "source": "shop"}, "unknown field 'source'"),
])
def test_a_batch_of_the_wrong_shape_is_422_saying_which(memory_api, body, says):
    answer = post(memory_api, "/v1/events/batch", body)

    assert answer.status_code == 422 and says in answer.json()["detail"]


def test_a_batch_of_a_thousand_is_taken_whole(memory_api):
    batch = [event(f"e{n}", customer_id=f"c{n % 10}") for n in range(1000)]

    answer = post(memory_api, "/v1/events/batch", {"events": batch})

    assert answer.status_code == 202 and answer.json()["accepted"] == 1000
    assert len(queued_ids(memory_api)) == 1000


def test_an_ingest_only_key_sends_events(memory_api):
    record, key = mint("storefront", ["ingest"], now=T0)
    memory_api.store.save_api_key(record)

    headers = {"Authorization": f"Bearer {key}"}
    answer = memory_api.client.post("/v1/events", json=ORDER_EVENT, headers=headers)

    assert answer.status_code == 202 and answer.json()["queued"] == ["evt_01"]


def test_the_store_failing_is_503_and_the_retry_queues_the_event(memory_api, monkeypatch):
    def broken(events, *, now):
        raise OSError("disk I/O error")

    monkeypatch.setattr(memory_api.store, "queue_events", broken)
    answer = post(memory_api, "/v1/events", ORDER_EVENT)

    assert answer.status_code == 503 and answer.headers["retry-after"] == "1"
    assert "none of these events was queued: send them again" in answer.json()["detail"]
    monkeypatch.undo()
    assert post(memory_api, "/v1/events", ORDER_EVENT).json()["queued"] == ["evt_01"]


def test_the_openapi_document_describes_the_event_routes_with_examples(memory_api):
    document = memory_api.client.get("/openapi.json").json()

    single = document["paths"]["/v1/events"]["post"]
    body = single["requestBody"]["content"]["application/json"]
    assert body["schema"] == {"$ref": "#/components/schemas/EventCreate"}
    assert body["examples"]["order"]["value"] == ORDER_EVENT
    assert {"202", "400", "401", "403", "409", "413", "415", "422", "503"} <= set(single["responses"])
    problem = {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    assert single["responses"]["422"]["content"] == problem
    event_schema = document["components"]["schemas"]["EventCreate"]
    assert set(event_schema["required"]) == {"id", "name", "customer_id", "at"}
    assert event_schema["additionalProperties"] is False
    batch = document["components"]["schemas"]["EventBatchCreate"]["properties"]["events"]
    assert batch["maxItems"] == 1000
    assert memory_api.client.get("/docs").status_code == 200


def test_integers_past_64_bits_are_queued_exactly(memory_api):
    body = b'{"id": "e1", "name": "Order Completed", "customer_id": "c1", "at": "2026-03-01T10:00:00Z",' \
           b' "properties": {"shopify_id": 820982911946154508123, "small": 7}}'

    headers = {**AUTH, "Content-Type": "application/json"}
    answer = memory_api.client.post("/v1/events", content=body, headers=headers)

    assert answer.status_code == 202
    queued = memory_api.store.queue["e1"].event
    assert queued.properties == {"shopify_id": 820982911946154508123, "small": 7}


def test_text_the_store_cannot_keep_is_refused_saying_where(api):
    body = b'{"id": "e1", "name": "Signed Up", "customer_id": "c1", "at": "2026-03-01T10:00:00Z",' \
           b' "properties": {"note": "a\\u0000b"}}'

    answer = api.client.post("/v1/events", content=body, headers={**AUTH, "Content-Type": "application/json"})

    assert answer.status_code == 422
    assert "'properties.note' holds a NUL character" in answer.json()["detail"]
    assert queued_ids(api) == []
