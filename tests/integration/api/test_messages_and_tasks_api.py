"""/v1/messages and /v1/tasks: pages with filters and a cursor, one by id, parked messages retried, tasks
resolved (telling their journey); and /v1/consent, the ledger by another door."""

from __future__ import annotations

from datetime import timedelta

import pytest

from onboardflow.core.model import Event
from onboardflow.core.validation import load_journey
from onboardflow.ports import PARTITIONS

from .conftest import ADMIN, PROFILE

AUTH = {"Authorization": f"Bearer {ADMIN}"}

VIP_DESK = """\
id: vip-desk
name: VIP desk
owner: cs@shop.example
trigger: {event: Order Completed}
steps:
  - {id: hand-off, escalate: {queue: vip, reason: first order, priority: high, wait: true,
                              on_outcome: {called: thanked}}}
  - {id: done, exit: completed}
  - id: thanked
    send: {channel: email, template: review_request, purpose: engagement}
"""


def orders(api, *customer_ids: str) -> None:
    """One first order each: the example welcome journey sends each a message."""
    api.engine.ingest([
        Event(f"o-{cid}", "Order Completed", cid, api.clock.now(), {"order_id": f"o_{cid}", "total": 60.0},
              PROFILE)
        for cid in customer_ids
    ])


def walk(api, path: str, **params) -> list[dict]:
    """Every item of a listing, page by page through `next`."""
    items, cursor = [], None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = api.client.get(path, params=query, headers=AUTH)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= params.get("limit", 50)
        items += page["items"]
        cursor = page["next"]
        if cursor is None:
            return items


# messages


def test_messages_are_listed_page_by_page_in_time_order(api):
    orders(api, "c1", "c2")
    api.clock.advance(timedelta(minutes=5))
    orders(api, "c3", "c4", "c5")

    listed = walk(api, "/v1/messages", limit=2)

    assert [m["id"] for m in listed] == [row.message.message_id for row in api.store.messages()]
    assert len(listed) == 5
    first = listed[0]
    assert (first["template"], first["status"], first["journey_id"], first["step_id"]) == (
        "welcome", "pending", "first-purchase-welcome", "welcome")


def test_message_filters_narrow_the_listing(api):
    orders(api, "c1", "c2", "c3")
    [m1] = api.store.messages("c1")
    [m2] = api.store.messages("c2")
    api.store.record_delivery(m1.message.message_id, status="delivered", channel="email", at=api.clock.now())
    api.store.record_delivery(m2.message.message_id, status="parked", channel="email", at=api.clock.now(),
                              error="gave up after 5 attempt(s): smtp down")

    def ids(**params):
        return [m["customer_id"] for m in walk(api, "/v1/messages", **params)]

    assert ids(customer_id="c3") == ["c3"]
    assert ids(status="parked") == ["c2"]
    assert ids(channel="email") == ["c1", "c2"]
    assert ids(journey_id="signup-activation") == []
    assert ids(status="pending", journey_id="first-purchase-welcome") == ["c3"]


def test_one_message_says_what_became_of_it(memory_api):
    orders(memory_api, "c1")
    [row] = memory_api.store.messages("c1")
    memory_api.store.record_delivery(row.message.message_id, status="skipped", channel="email",
                                     at=memory_api.clock.now(), note="quiet hours until 08:00", counted=False)

    message = memory_api.client.get(f"/v1/messages/{row.message.message_id}", headers=AUTH).json()

    assert (message["status"], message["channel"], message["note"]) == ("skipped", "email",
                                                                        "quiet hours until 08:00")
    assert message["channels"] == ["email"] and message["customer_id"] == "c1"


@pytest.mark.parametrize("query", [{"limit": 0}, {"limit": 501}, {"status": "lost"}, {"customer_id": ""},
                                   {"customer_id": "c\x01"}])
def test_odd_listing_queries_are_422(memory_api, query):
    response = memory_api.client.get("/v1/messages", params=query, headers=AUTH)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("path", ["/v1/messages", "/v1/tasks"])
def test_a_cursor_the_api_did_not_give_is_400(memory_api, path):
    for cursor in ("nonsense", "W10", "WyJ4IiwgMV0"):  # garbage, [], ["x", 1]
        response = memory_api.client.get(path, params={"cursor": cursor}, headers=AUTH)
        assert response.status_code == 400
        assert "`next` of the previous page" in response.json()["detail"]


def test_an_unknown_message_or_task_is_404(api):
    for path in ("/v1/messages/msg_nope", "/v1/tasks/tsk_nope"):
        response = api.client.get(path, headers=AUTH)
        assert response.status_code == 404
        assert "nope" in response.json()["detail"]


def test_retrying_parked_messages_by_id_says_which_were_not_parked(api):
    orders(api, "c1", "c2")
    parked, delivered = (row.message.message_id for row in api.store.messages())
    api.store.record_delivery(parked, status="parked", channel="email", at=api.clock.now(), error="down")
    api.store.record_delivery(delivered, status="delivered", channel="email", at=api.clock.now())

    response = api.client.post("/v1/messages/retry", json={"message_ids": [parked, delivered, "msg_nope"]},
                               headers=AUTH)

    assert response.status_code == 200
    assert response.json() == {"retried": 1, "skipped": [
        {"id": delivered, "reason": "delivered, not parked"},
        {"id": "msg_nope", "reason": "no such message"},
    ]}
    assert api.store.message(parked).status == "pending"


def test_retrying_all_parked_messages(memory_api):
    orders(memory_api, "c1", "c2", "c3")
    for row in memory_api.store.messages()[:2]:
        memory_api.store.record_delivery(row.message.message_id, status="parked", channel="email",
                                         at=memory_api.clock.now(), error="down")

    response = memory_api.client.post("/v1/messages/retry", json={"all": True}, headers=AUTH)

    assert response.json() == {"retried": 2, "skipped": []}
    assert [row.status for row in memory_api.store.messages()] == ["pending"] * 3


@pytest.mark.parametrize("body", [{}, {"all": True, "message_ids": ["m1"]}, {"message_ids": []},
                                  {"all": False}, {"all": 1}])
def test_a_retry_must_name_messages_or_say_all(memory_api, body):
    response = memory_api.client.post("/v1/messages/retry", json=body, headers=AUTH)

    assert response.status_code == 422


# tasks


def test_tasks_are_listed_soonest_due_first_and_filtered(api):
    due_in_4h = VIP_DESK.replace("priority: high", "priority: high, due: 4h")
    api.engine.publish(load_journey(due_in_4h, source="vip-desk.yaml"))
    orders(api, "c1")
    api.clock.advance(timedelta(hours=1))
    orders(api, "c2", "c3")

    listed = walk(api, "/v1/tasks", limit=2)

    assert [t["id"] for t in listed] == [row.task.task_id for row in api.store.tasks()]
    assert [t["customer_id"] for t in listed][0] == "c1"  # due an hour before the others
    first = listed[0]
    assert (first["queue"], first["status"], first["due_at"]) == ("vip", "open", "2026-03-02T13:00:00Z")
    assert [t["customer_id"] for t in walk(api, "/v1/tasks", customer_id="c2")] == ["c2"]
    assert walk(api, "/v1/tasks", queue="support") == []
    assert walk(api, "/v1/tasks", status="resolved") == []


def test_resolving_a_task_tells_its_journey(api):
    api.engine.publish(load_journey(VIP_DESK, source="vip-desk.yaml"))
    orders(api, "c1")
    [task] = api.store.tasks(customer_id="c1")
    task_id = task.task.task_id

    response = api.client.post(f"/v1/tasks/{task_id}/resolve", json={"outcome": "called", "by": "agent@shop"},
                               headers=AUTH)

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["outcome"], response.json()["assignee"]) == (
        "resolved", "called", "agent@shop")
    assert api.client.get(f"/v1/tasks/{task_id}", headers=AUTH).json()["status"] == "resolved"
    api.engine.work(partitions=PARTITIONS)  # the Task Resolved event was queued, as the CLI queues it
    assert "review_request" in [m.message.template for m in api.store.messages("c1")]


def test_resolving_twice_is_409_and_an_unknown_task_404(memory_api):
    memory_api.engine.publish(load_journey(VIP_DESK, source="vip-desk.yaml"))
    orders(memory_api, "c1")
    [task] = memory_api.store.tasks()
    path = f"/v1/tasks/{task.task.task_id}/resolve"
    memory_api.client.post(path, json={"outcome": "called"}, headers=AUTH)

    twice = memory_api.client.post(path, json={"outcome": "refunded"}, headers=AUTH)
    unknown = memory_api.client.post("/v1/tasks/tsk_nope/resolve", json={"outcome": "called"}, headers=AUTH)
    empty = memory_api.client.post(path, json={"outcome": ""}, headers=AUTH)

    assert twice.status_code == 409 and "resolved already (outcome: called)" in twice.json()["detail"]
    assert unknown.status_code == 404
    assert empty.status_code == 422
    assert memory_api.store.task(task.task.task_id).outcome == "called"


# consent


def test_the_consent_resource_is_the_same_ledger_as_the_customers(api):
    body = {"customer_id": "c1", "channel": "sms", "status": "granted", "source": "pos",
            "at": "2026-03-01T08:00:00Z"}

    created = api.client.post("/v1/consent", json=body, headers=AUTH)
    twice = api.client.post("/v1/consent", json=body, headers=AUTH)

    assert created.status_code == 201 and twice.status_code == 201
    assert created.json()["id"] == twice.json()["id"]
    ledger = api.client.get("/v1/consent", params={"customer_id": "c1"}, headers=AUTH).json()
    assert ledger == api.client.get("/v1/customers/c1/consents", headers=AUTH).json()
    assert [(line["channel"], line["status"]) for line in ledger["ledger"]] == [("sms", "granted")]
    assert api.state("c1") == {("sms", "marketing"): "granted"}


def test_consent_needs_a_customer_and_good_fields(memory_api):
    missing = memory_api.client.get("/v1/consent", headers=AUTH)
    blank = {"customer_id": "c1", "channel": " ", "status": "granted"}
    bad = memory_api.client.post("/v1/consent", json=blank, headers=AUTH)
    unknown_field = memory_api.client.post("/v1/consent", json={"customer_id": "c1", "channel": "email",
                                                                "status": "granted", "chanel": "sms"},
                                           headers=AUTH)

    assert missing.status_code == 422 and "query.customer_id" in missing.json()["detail"]
    assert bad.status_code == 422 and "channel must name a channel" in bad.json()["detail"]
    assert unknown_field.status_code == 422 and "body.chanel" in unknown_field.json()["detail"]
    epoch = memory_api.client.post("/v1/consent", json={"customer_id": "c1", "channel": "email",
                                                        "status": "granted", "at": 0}, headers=AUTH)
    assert epoch.status_code == 422 and "ISO-8601" in epoch.json()["detail"]
    assert memory_api.store.consents("c1") == []
