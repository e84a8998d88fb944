"""API keys on every route that needs one: no key 401, a revoked or made-up key 401, a key without the
route's scope 403 (naming the scope to ask for), the right scope or admin goes through."""

from __future__ import annotations

import re

import pytest

from onboardflow.api.event_schemas import DELIVERED_EVENT, ORDER_EVENT, SEGMENT_TRACK
from onboardflow.api.keys import mint

from onboardflow.governance.people import add_user
from .conftest import T0, make_api

JOURNEY = {"id": "vip-desk", "name": "VIP desk", "owner": "cs@shop.example",
           "trigger": {"event": "Signed Up"},
           "steps": [{"id": "hand-off", "escalate": {"queue": "vip", "reason": "new", "priority": "high"}}]}

# (method, path, body, scope needed)
ROUTES = [
    ("POST", "/v1/events", ORDER_EVENT, "ingest"),
    ("POST", "/v1/events/batch", {"events": [ORDER_EVENT, DELIVERED_EVENT]}, "ingest"),
    ("POST", "/v1/segment", SEGMENT_TRACK, "ingest"),
    ("GET", "/v1/customers/c1/consents", None, "read"),
    ("POST", "/v1/customers/c1/consents", {"channel": "email", "status": "granted"}, "write"),
    ("GET", "/v1/customers/c1/inbox", None, "read"),
    ("POST", "/v1/customers/c1/inbox/read", {"message_ids": ["m1"]}, "write"),
    ("GET", "/v1/customers/c1/export", None, "admin"),
    ("DELETE", "/v1/customers/c1", None, "admin"),
    ("PUT", "/v1/customers/c1", {"email": "ana@example.com"}, "write"),
    ("GET", "/v1/customers/c1", None, "read"),
    ("GET", "/v1/consent?customer_id=c1", None, "read"),
    ("POST", "/v1/consent", {"customer_id": "c1", "channel": "email", "status": "granted"}, "write"),
    ("POST", "/v1/journeys/validate", JOURNEY, "read"),
    ("GET", "/v1/journeys", None, "read"),
    ("PUT", "/v1/journeys/vip-desk", JOURNEY, "write"),
    ("GET", "/v1/journeys/first-purchase-welcome", None, "read"),
    ("GET", "/v1/journeys/first-purchase-welcome/versions", None, "read"),
    ("GET", "/v1/journeys/first-purchase-welcome/versions/1", None, "read"),
    ("POST", "/v1/journeys/first-purchase-welcome/publish", {"version": 1}, "write"),
    ("POST", "/v1/journeys/first-purchase-welcome/pause", None, "write"),
    ("POST", "/v1/journeys/first-purchase-welcome/resume", None, "write"),
    ("GET", "/v1/messages", None, "read"),
    ("GET", "/v1/messages/msg_1", None, "read"),
    ("POST", "/v1/messages/retry", {"all": True}, "write"),
    ("GET", "/v1/tasks", None, "read"),
    ("GET", "/v1/tasks/tsk_1", None, "read"),
    ("POST", "/v1/tasks/tsk_1/resolve", {"outcome": "called"}, "write"),
    ("POST", "/v1/tasks/tsk_1/claim", {"assignee": "ana@shop.example"}, "write"),
    ("GET", "/v1/journeys/first-purchase-welcome/review", None, "read"),
    ("GET", "/v1/journeys/first-purchase-welcome/audit", None, "read"),
    ("GET", "/v1/journeys/first-purchase-welcome/versions/1/packet", None, "read"),
    ("POST", "/v1/journeys/first-purchase-welcome/versions/1/submit", None, "write"),
    ("POST", "/v1/journeys/first-purchase-welcome/versions/1/comments", {"body": "why?"}, "write"),
    ("POST", "/v1/journeys/first-purchase-welcome/decisions",
     {"comment_id": "cmt_1", "outcome": "accepted", "rationale": "fine"}, "write"),
    ("POST", "/v1/journeys/first-purchase-welcome/versions/1/risks", {"risk": "late parcels"}, "write"),
    ("PATCH", "/v1/journeys/first-purchase-welcome/risks/rsk_1", {"status": "closed"}, "write"),
    ("POST", "/v1/journeys/first-purchase-welcome/versions/1/approve", {"customers": 5, "days": 2}, "write"),
    ("POST", "/v1/journeys/first-purchase-welcome/versions/1/launch", None, "write"),
    ("POST", "/v1/journeys/first-purchase-welcome/step-up", {"share": "50%"}, "write"),
    ("POST", "/v1/journeys/first-purchase-welcome/rollback", None, "write"),
    ("POST", "/v1/journeys/first-purchase-welcome/versions/1/retire", None, "write"),
    ("GET", "/v1/kpis", None, "read"),
    ("POST", "/v1/signups", {"email": "ana@example.com", "consent": {"text": "tips", "version": "v1"}}, "ingest"),
    ("GET", "/v1/webhooks", None, "admin"),
    ("POST", "/v1/webhooks", {"url": "https://hooks.example/in", "events": ["*"]}, "admin"),
    ("GET", "/v1/webhooks/sub_1", None, "admin"),
    ("PATCH", "/v1/webhooks/sub_1", {"enabled": False}, "admin"),
    ("DELETE", "/v1/webhooks/sub_1", None, "admin"),
    ("POST", "/v1/webhooks/sub_1/rotate-secret", None, "admin"),
    ("GET", "/v1/webhooks/sub_1/deliveries", None, "admin"),
    ("POST", "/v1/webhooks/sub_1/test", None, "admin"),
    ("GET", "/v1/playbooks", None, "read"),
    ("GET", "/v1/playbooks/agency-stakeholder-alignment", None, "read"),
    ("POST", "/v1/journeys/first-purchase-welcome/versions/1/playbook",
     {"playbook": "agency-stakeholder-alignment", "post_launch_owner": "ops@shop.example"}, "write"),
    ("GET", "/v1/journeys/first-purchase-welcome/versions/1/playbook", None, "read"),
    ("POST", "/v1/journeys/first-purchase-welcome/versions/1/playbook/checkpoints/week-1", {}, "write"),
    ("POST", "/v1/journeys/first-purchase-welcome/versions/1/playbook/items/objective/close", {"note": "x"}, "write"),
    ("POST", "/v1/journeys/first-purchase-welcome/versions/1/playbook/rehearsals",
     {"events": [{"id": "e1", "name": "Order Completed", "customer_id": "c1", "at": "2026-03-02T09:00:00Z"}]},
     "write"),
    ("POST", "/v1/journeys/first-purchase-welcome/versions/1/playbook/retrospective", {}, "write"),
]
ACTING = "ops@shop.example"  # the user every test key acts as: an admin, so only scopes decide here


def key(api, *scopes: str, name: str = "test") -> str:
    record, plain = mint(name, scopes, now=T0, user=ACTING)
    api.store.save_api_key(record)
    return plain


def call(api, route, token: str | None):
    method, path, body, _ = route
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return api.client.request(method, path, json=body, headers=headers)


@pytest.fixture
def keyed(store):
    api = make_api(store, admin_token=None, api_key_cache_seconds=0)
    api.engine.ingest([])
    add_user(store=store, email=ACTING, name="Ops", roles="admin", password=None, now=T0)
    return api


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r[0]} {r[1]}")
def test_every_route_refuses_no_key_and_a_key_without_its_scope(keyed, route):
    needed = route[3]
    others = [scope for scope in ("ingest", "read", "write") if scope != needed]

    missing = call(keyed, route, None)
    assert missing.status_code == 401 and "Bearer" in missing.headers["www-authenticate"]
    assert missing.headers["content-type"] == "application/problem+json"
    assert f"'{needed}' scope" in missing.json()["detail"]

    wrong = call(keyed, route, key(keyed, *others, name="other"))
    assert wrong.status_code == 403
    detail = wrong.json()["detail"]
    assert f"needs '{needed}'" in detail and f"--scopes {needed}" in detail


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r[0]} {r[1]}")
def test_every_route_lets_its_scope_and_admin_through(keyed, route):
    needed = route[3]
    for token in (key(keyed, needed), key(keyed, "admin")):
        response = call(keyed, route, token)
        assert response.status_code not in (401, 403), response.text


def test_an_ingest_only_key_reads_nothing(keyed):
    storefront = key(keyed, "ingest", name="storefront")
    response = call(keyed, ("GET", "/v1/customers/c1/consents", None, "read"), storefront)
    assert response.status_code == 403
    assert "(storefront) has the scopes ingest" in response.json()["detail"]


def test_a_revoked_key_is_refused_with_401_saying_so(keyed):
    record, plain = mint("crm", ["read"], now=T0)
    keyed.store.save_api_key(record)
    consents = ("GET", "/v1/customers/c1/consents", None, "read")
    assert call(keyed, consents, plain).status_code == 200

    keyed.store.revoke_api_key(record.id, at=T0)
    response = call(keyed, consents, plain)

    assert response.status_code == 401
    assert "was revoked" in response.json()["detail"]


def test_a_made_up_or_tampered_key_is_401(keyed):
    plain = key(keyed, "admin")
    for token in ("obf_123456789abc_nothing", plain[:-1] + ("A" if plain[-1] != "A" else "B"), "hello"):
        assert call(keyed, ROUTES[0], token).status_code == 401


def test_the_table_names_every_v1_route_of_the_app(memory_api):
    """So a new route cannot go unchecked: each /v1 operation of the OpenAPI document is in ROUTES."""
    paths = memory_api.client.get("/openapi.json").json()["paths"]
    operations = [(method.upper(), path) for path, item in paths.items() if path.startswith("/v1/")
                  for method in item]

    for method, path in operations:
        pattern = re.compile(re.sub(r"\{[^}]+\}", "[^/]+", path) + "$")
        found = [r for r in ROUTES if r[0] == method and pattern.match(r[1].partition("?")[0])]
        assert found, f"{method} {path} is not in ROUTES: add it with the scope it needs"
    assert len(operations) == len(ROUTES)


def test_the_admin_token_of_the_settings_has_every_scope(store):
    api = make_api(store, api_key_cache_seconds=0)
    from .conftest import ADMIN

    for route in ROUTES:
        response = call(api, route, ADMIN)
        # every scope; but it is no person, so what a person must do (review, approve, launch) it may not
        assert response.status_code not in (401, 403) or "acts as no user" in response.json()["detail"]
