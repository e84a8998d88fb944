"""The customer routes: GDPR export and erasure, and the consent ledger, with the admin token (every scope)."""

from __future__ import annotations

import json

import pytest

from onboardflow.core.model import Event
from onboardflow.core.validation import load_journey

from .conftest import ADMIN, PROFILE, make_api

AUTH = {"Authorization": f"Bearer {ADMIN}"}


def first_order(api, customer_id: str = "c1") -> None:
    """An order that starts the example welcome journey: a profile, events, an enrollment, a message."""
    order = Event(f"o-{customer_id}", "Order Completed", customer_id, api.clock.now(),
                  {"order_id": "o_9", "total": 60.0, "currency": "USD", "note": "leave at the door"}, PROFILE)
    consent = Event(f"g-{customer_id}", "Consent Granted", customer_id, api.clock.now(),
                    {"channel": "email", "evidence": {"ip": "203.0.113.7"}})
    api.engine.ingest([order, consent])


# the admin token


@pytest.mark.parametrize("request_line", [("GET", "/v1/customers/c1/export"), ("DELETE", "/v1/customers/c1"),
                                          ("GET", "/v1/customers/c1/consents")])
def test_admin_routes_without_a_token_answer_401_asking_for_one(memory_api, request_line):
    first_order(memory_api)

    response = memory_api.client.request(*request_line)

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.headers["content-type"] == "application/problem+json"
    assert "Authorization: Bearer" in response.json()["detail"]
    assert memory_api.store.customer("c1") is not None


def test_a_wrong_token_answers_401_and_erases_nothing(memory_api):
    first_order(memory_api)

    response = memory_api.client.delete("/v1/customers/c1", headers={"Authorization": "Bearer not-the-token"})

    assert response.status_code == 401
    assert "obf_<id>_<secret>" in response.json()["detail"]
    assert memory_api.store.customer("c1").email == "ana@example.com"


def test_without_an_admin_token_set_the_old_token_opens_nothing(store):
    api = make_api(store, admin_token=None)

    response = api.client.get("/v1/customers/c1/export", headers=AUTH)

    assert response.status_code == 401


# export


def test_export_holds_profile_ledger_events_enrollments_and_messages(api):
    first_order(api)

    response = api.client.get("/v1/customers/c1/export", headers=AUTH)

    assert response.status_code == 200
    document = response.json()
    assert (document["format"], document["customer_id"]) == ("onboardflow/customer-export/v1", "c1")
    assert document["exported_at"] == "2026-03-02T09:00:00Z"
    assert document["profile"]["email"] == "ana@example.com"
    assert [event["name"] for event in document["events"]] == ["Order Completed", "Consent Granted"]
    assert document["events"][0]["properties"]["note"] == "leave at the door"
    assert [line["evidence"]["ip"] for line in document["consent"]["ledger"]] == ["203.0.113.7"]
    assert document["consent"]["state"] == [{"channel": "email", "purpose": "marketing", "status": "granted",
                                             "at": "2026-03-02T09:00:00Z", "source": "event"}]
    assert [e["journey_id"] for e in document["enrollments"]] == ["first-purchase-welcome"]
    assert [(m["step_id"], m["status"]) for m in document["messages"]] == [("welcome", "pending")]


VIP_DESK = """\
id: vip-desk
name: VIP desk
owner: cs@shop.example
trigger: {event: Order Completed}
steps:
  - {id: hand-off, escalate: {queue: vip, reason: first order, priority: high}}
"""


def test_export_and_erasure_cover_the_customers_tasks(api):
    api.engine.publish(load_journey(VIP_DESK, source="vip-desk.yaml"))
    first_order(api)

    exported = api.client.get("/v1/customers/c1/export", headers=AUTH).json()

    [task] = exported["tasks"]
    assert (task["queue"], task["status"], task["context"]["trigger"]["note"]) == (
        "vip", "open", "leave at the door"
    )
    pseudonym = api.client.delete("/v1/customers/c1", headers=AUTH).json()["pseudonym"]
    [erased] = api.client.get(f"/v1/customers/{pseudonym}/export", headers=AUTH).json()["tasks"]
    assert (erased["queue"], erased["status"]) == ("vip", "cancelled")
    assert "note" not in erased["context"]["trigger"]
    assert api.store.tasks(status="open") == []


def test_export_holds_the_outbound_webhook_deliveries_about_the_customer_and_erasure_removes_them(api):
    hook = api.client.post("/v1/webhooks", headers=AUTH, json={
        "url": "https://crm.example/onboardflow", "events": ["task.opened"]}).json()
    api.engine.publish(load_journey(VIP_DESK, source="vip-desk.yaml"))
    first_order(api)
    first_order(api, "c2")

    exported = api.client.get("/v1/customers/c1/export", headers=AUTH).json()

    [delivery] = exported["webhook_deliveries"]
    assert (delivery["subscription_id"], delivery["url"], delivery["event_type"], delivery["status"]) == (
        hook["id"], "https://crm.example/onboardflow", "task.opened", "pending")
    assert delivery["body"]["data"]["customer_id"] == "c1"  # the event as it is sent
    assert delivery["body"]["data"]["context"]["trigger"]["note"] == "leave at the door"
    erasure = api.client.delete("/v1/customers/c1", headers=AUTH).json()
    assert erasure["counts"]["webhook_deliveries_deleted"] == 1
    assert [d.customer_id for d in api.store.deliveries()] == ["c2"]  # c1's will never go out
    pseudonym_export = api.client.get(f"/v1/customers/{erasure['pseudonym']}/export", headers=AUTH).json()
    assert pseudonym_export["webhook_deliveries"] == []


def test_export_of_an_unknown_customer_is_404_saying_what_to_check(memory_api):
    response = memory_api.client.get("/v1/customers/nobody/export", headers=AUTH)

    assert response.status_code == 404
    assert "no customer 'nobody'" in response.json()["detail"]


# erasure


def test_erasure_through_the_api_keeps_counts_and_leaves_nothing_personal(api):
    first_order(api)
    first_order(api, "c2")
    before = api.store.counts()

    response = api.client.delete("/v1/customers/c1", headers=AUTH)

    assert response.status_code == 200
    erasure = response.json()
    assert erasure["erased"] is True and erasure["pseudonym"].startswith("anon_")
    assert erasure["counts"]["events"] == 2 and erasure["counts"]["enrollments"] == 1
    after = api.store.counts()
    assert {k: after[k] for k in ("events", "enrollments", "messages", "customers")} == {
        k: before[k] for k in ("events", "enrollments", "messages", "customers")
    }
    remainder = api.client.get(f"/v1/customers/{erasure['pseudonym']}/export", headers=AUTH).json()
    text = json.dumps(remainder)
    for personal in ("ana@example.com", "+15551234567", "Ana", "leave at the door", "203.0.113.7", "o_9"):
        assert personal not in text
    assert remainder["profile"]["total_spent"] == 60.0
    assert api.client.get("/v1/customers/c1/export", headers=AUTH).status_code == 404
    untouched = api.client.get("/v1/customers/c2/export", headers=AUTH).json()
    assert untouched["profile"]["email"] == PROFILE["email"]


def test_erasing_twice_is_404_the_second_time(memory_api):
    first_order(memory_api)
    memory_api.client.delete("/v1/customers/c1", headers=AUTH)

    response = memory_api.client.delete("/v1/customers/c1", headers=AUTH)

    assert response.status_code == 404
    assert len(memory_api.store.erasures()) == 1


# the consent ledger


def test_consent_recorded_through_the_api_is_in_the_ledger_and_the_state(api):
    body = {"channel": "sms", "purpose": "marketing", "status": "granted", "source": "pos",
            "text_version": "sms-v2", "evidence": {"double_opt_in": True}, "at": "2026-03-01T08:00:00+01:00"}

    created = api.client.post("/v1/customers/c1/consents", json=body, headers=AUTH)

    assert created.status_code == 201
    assert created.json()["at"] == "2026-03-01T07:00:00Z"
    ledger = api.client.get("/v1/customers/c1/consents", headers=AUTH).json()
    assert [(line["channel"], line["status"], line["source"]) for line in ledger["state"]] == [
        ("sms", "granted", "pos")
    ]
    assert ledger["ledger"][0]["evidence"] == {"double_opt_in": True}


def test_consent_without_a_time_is_recorded_now(memory_api):
    body = {"channel": "email", "status": "withdrawn"}

    created = memory_api.client.post("/v1/customers/c1/consents", json=body, headers=AUTH).json()

    assert (created["at"], created["purpose"]) == ("2026-03-02T09:00:00Z", "marketing")
    assert created["source"] == "api"


def test_a_bad_consent_body_is_422_naming_the_field(memory_api):
    body = {"channel": "email", "status": "maybe", "purpose": "newsletter", "at": "2026-03-01T08:00:00"}

    response = memory_api.client.post("/v1/customers/c1/consents", json=body, headers=AUTH)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    fields = {error["field"] for error in response.json()["errors"]}
    assert fields == {"body.status", "body.purpose", "body.at"}
    assert memory_api.store.consents("c1") == []
