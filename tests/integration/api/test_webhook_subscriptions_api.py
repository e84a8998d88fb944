"""Outbound webhook subscriptions over HTTP: created with the secret shown once, read, changed, disabled,
removed, their secret rotated, their deliveries listed, a test sent to a real local receiver; every route
needs `admin`, and a mistake is a problem naming the field."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook
from test_webhook_step import Receiver, Reply  # tests/integration is on sys.path

from onboardflow.api.keys import mint
from onboardflow.core.outbound import OutboundEvent, iso
from onboardflow.engine.clock import SystemClock
from onboardflow.ports import Changes

from .conftest import ADMIN, T0, make_api

AUTH = {"Authorization": f"Bearer {ADMIN}"}
HOOK = {"url": "https://hooks.shop.example/onboardflow", "events": ["task.opened"], "description": "crm"}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    yield running
    running.close()


@pytest.fixture
def local_api():
    """On the memory store, with private addresses allowed (the receiver is on 127.0.0.1), the clock at the
    real time (a receiver refuses a signature more than five minutes old)."""
    from onboardflow.store.memory import MemoryStore

    api = make_api(MemoryStore(), outbound_webhooks_allow_private=True)
    api.clock.jump_to(SystemClock().now().replace(microsecond=0))
    return api


def create(api, **changes):
    response = api.client.post("/v1/webhooks", json={**HOOK, **changes}, headers=AUTH)
    assert response.status_code == 201, response.text
    return response.json()


def publish(store, *event_ids: str, customer_id: str = "c1") -> None:
    events = [OutboundEvent(event_id, "task.opened", store_time(n), {"task_id": event_id}, customer_id)
              for n, event_id in enumerate(event_ids)]
    with store.transaction() as tx:
        tx.apply(Changes(outbound=events))


def store_time(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_a_created_subscription_shows_its_secret_once_and_reads_back_without_it(api):
    created = create(api)

    assert created["secret"].startswith("whsec_") and created["warnings"] == []
    assert (created["url"], created["events"], created["enabled"]) == (HOOK["url"], ["task.opened"], True)
    read = api.client.get(f"/v1/webhooks/{created['id']}", headers=AUTH).json()
    assert "secret" not in read and read["id"] == created["id"]
    assert api.client.get("/v1/webhooks", headers=AUTH).json()["items"] == [read]
    assert api.store.subscription(created["id"]).secret == created["secret"]


def test_a_bad_subscription_is_a_422_naming_each_field_and_nothing_is_stored(memory_api):
    response = memory_api.client.post("/v1/webhooks", headers=AUTH,
                                      json={"url": "ftp://x", "events": ["task.opend"]})

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    fields = {error["field"]: error["message"] for error in response.json()["errors"]}
    assert set(fields) == {"body.url", "body.events"}
    assert "https://" in fields["body.url"] and "'task.opend'" in fields["body.events"]
    assert memory_api.store.subscriptions() == []


def test_an_ip_address_that_will_be_refused_is_warned_about_at_once(memory_api):
    created = create(memory_api, url="http://10.0.0.5/hook")

    assert "10.0.0.5, a private address" in created["warnings"][0]


def test_every_route_needs_the_admin_scope(memory_api):
    record, token = mint("crm", ["read", "write"], now=store_time(0))
    memory_api.store.save_api_key(record)
    headers = {"Authorization": f"Bearer {token}"}

    for method, path in [("GET", "/v1/webhooks"), ("POST", "/v1/webhooks"), ("GET", "/v1/webhooks/sub_x"),
                         ("PATCH", "/v1/webhooks/sub_x"), ("DELETE", "/v1/webhooks/sub_x"),
                         ("POST", "/v1/webhooks/sub_x/rotate-secret"),
                         ("GET", "/v1/webhooks/sub_x/deliveries"), ("POST", "/v1/webhooks/sub_x/test")]:
        response = memory_api.client.request(method, path, headers=headers, json={})
        assert response.status_code == 403, (method, path)
        assert "'admin'" in response.json()["detail"]


def test_an_unknown_subscription_is_a_404_that_says_where_to_look(memory_api):
    response = memory_api.client.get("/v1/webhooks/sub_nope", headers=AUTH)

    assert response.status_code == 404 and "GET /v1/webhooks" in response.json()["detail"]


def test_an_update_changes_what_it_names_and_disabling_fails_the_pending_deliveries(api):
    created = create(api)
    publish(api.store, "e1")

    changed = api.client.patch(f"/v1/webhooks/{created['id']}", headers=AUTH,
                               json={"events": ["*"], "enabled": False, "disabled_reason": "moving"}).json()

    assert (changed["events"], changed["enabled"], changed["disabled_reason"]) == (["*"], False, "moving")
    assert changed["url"] == HOOK["url"] and changed["description"] == "crm"
    [failed] = api.store.deliveries()
    assert failed.status == "failed" and "moving" in failed.error
    again = api.client.patch(f"/v1/webhooks/{created['id']}", headers=AUTH, json={"enabled": True}).json()
    assert again["enabled"] and again["disabled_reason"] is None
    bad = api.client.patch(f"/v1/webhooks/{created['id']}", headers=AUTH, json={"url": "not a url"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "body.url"


def test_a_removed_subscription_is_gone_with_its_deliveries(api):
    created = create(api)
    publish(api.store, "e1")

    assert api.client.delete(f"/v1/webhooks/{created['id']}", headers=AUTH).status_code == 204

    assert api.store.subscriptions() == [] and api.store.deliveries() == []
    assert api.client.delete(f"/v1/webhooks/{created['id']}", headers=AUTH).status_code == 404


def test_deliveries_are_listed_newest_first_by_status_in_pages(api):
    created = create(api)
    other = create(api, url="https://other.example/hook")
    publish(api.store, "e1", "e2", "e3")
    [oldest] = [d for d in api.store.deliveries(subscription_id=created["id"]) if d.event_id == "e1"]
    api.store.record_attempt(oldest.id, status="failed", at=store_time(5), attempts=8, error="gone")
    path = f"/v1/webhooks/{created['id']}/deliveries"

    first = api.client.get(path, params={"limit": 2}, headers=AUTH).json()
    rest = api.client.get(path, params={"limit": 2, "cursor": first["next"]}, headers=AUTH).json()
    failed = api.client.get(path, params={"status": "failed"}, headers=AUTH).json()

    assert [d["event_id"] for d in first["items"]] == ["e3", "e2"] and first["next"]
    assert [d["event_id"] for d in rest["items"]] == ["e1"] and rest["next"] is None
    assert [(d["event_id"], d["error"]) for d in failed["items"]] == [("e1", "gone")]
    assert {d["subscription_id"] for d in first["items"] + rest["items"]} == {created["id"]}  # not other's
    assert len(api.store.deliveries(subscription_id=other["id"])) == 3
    bad = api.client.get(path, params={"cursor": "nonsense"}, headers=AUTH)
    assert bad.status_code == 400


def test_a_test_reaches_the_receiver_signed_and_says_what_it_answered(local_api, receiver):
    created = create(local_api, url=receiver.url + "/hooks")
    receiver.answer(Reply(200, {}), Reply(503, {"error": "maintenance"}))

    sent = local_api.client.post(f"/v1/webhooks/{created['id']}/test", headers=AUTH).json()
    failed = local_api.client.post(f"/v1/webhooks/{created['id']}/test", headers=AUTH).json()

    assert (sent["delivered"], sent["response_status"], sent["error"]) == (True, 200, None)
    assert sent["delivery"]["event_type"] == "webhook.test" and sent["delivery"]["status"] == "delivered"
    body = receiver.received[0].verified(created["secret"])  # the library checks the signature
    assert body["data"]["subscription_id"] == created["id"]
    assert (failed["delivered"], failed["response_status"]) == (False, 503)
    assert "maintenance" in failed["error"] and failed["delivery"]["status"] == "failed"


def test_a_rotated_secret_signs_beside_the_old_one_for_the_grace_period_then_alone(local_api, receiver):
    created = create(local_api, url=receiver.url + "/hooks")
    start = local_api.clock.now()

    rotated = local_api.client.post(f"/v1/webhooks/{created['id']}/rotate-secret", headers=AUTH,
                                    json={"grace_hours": 1}).json()
    local_api.client.post(f"/v1/webhooks/{created['id']}/test", headers=AUTH)
    local_api.clock.advance(timedelta(hours=1))
    local_api.client.post(f"/v1/webhooks/{created['id']}/test", headers=AUTH)

    assert rotated["secret"] != created["secret"] and rotated["secret"].startswith("whsec_")
    assert rotated["previous_secret_valid_until"] == iso(start + timedelta(hours=1))
    during, after = receiver.received
    assert during.verified(created["secret"]) == during.verified(rotated["secret"])  # the library, either one
    assert signature_holds(after, rotated["secret"]) and not signature_holds(after, created["secret"])


def test_a_rotation_without_a_body_keeps_the_old_secret_for_the_server_s_grace_period(memory_api):
    created = create(memory_api)

    rotated = memory_api.client.post(f"/v1/webhooks/{created['id']}/rotate-secret", headers=AUTH)

    assert rotated.status_code == 200
    assert rotated.json()["previous_secret_valid_until"] == "2026-03-03T09:00:00Z"  # 24 h by default
    read = memory_api.client.get(f"/v1/webhooks/{created['id']}", headers=AUTH).json()
    assert read["previous_secret_valid_until"] == "2026-03-03T09:00:00Z"


def signature_holds(request, secret: str) -> bool:
    """One of the request's signatures is the library's under `secret` (at any age: the clock jumps)."""
    headers = request.headers
    at = datetime.fromtimestamp(int(headers["webhook-timestamp"]), UTC)
    expected = Webhook(secret).sign(headers["webhook-id"], at, request.body.decode())
    return expected in headers["webhook-signature"].split(" ")
