"""POST /v1/tasks/{id}/claim: an agent takes a task and gets the customer's context with it."""

from __future__ import annotations

from onboardflow.api.keys import mint
from onboardflow.core.model import Event
from onboardflow.engine.engine import Engine
from onboardflow.escalation.rules import read_rules

from .conftest import ADMIN, PROFILE, T0, make_api

AUTH = {"Authorization": f"Bearer {ADMIN}"}


def with_task(store):
    api = make_api(store)
    engine = Engine(store, clock=api.clock, rules=read_rules("rules: [{rule: high_value, order_total: 500}]"))
    order = {
        "order_id": "o1",
        "total": 720.0,
        "currency": "USD",
        "products": [{"product_id": "p1", "price": 720.0, "quantity": 1}],
    }
    engine.ingest([Event("e1", "Order Completed", "c1", T0, order, PROFILE)])
    [task] = store.tasks()
    return api, task.task.task_id


def test_claiming_a_task_assigns_it_and_answers_with_the_customers_context(store):
    api, task_id = with_task(store)

    response = api.client.post(
        f"/v1/tasks/{task_id}/claim", json={"assignee": "ana@shop.example"}, headers=AUTH
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["task"]["status"], body["task"]["assignee"]) == ("assigned", "ana@shop.example")
    assert body["task"]["reason"] == "high-value customer"
    assert body["detail"] == "order total 720 is over 500"
    assert body["customer"]["email"] == "ana@example.com"
    assert [order["order_id"] for order in body["orders"]] == ["o1"]
    assert store.task(task_id).assignee == "ana@shop.example"


def test_a_task_someone_else_has_is_a_conflict_and_an_unknown_one_is_not_found(store):
    api, task_id = with_task(store)
    api.client.post(f"/v1/tasks/{task_id}/claim", json={"assignee": "ana@shop.example"}, headers=AUTH)

    taken = api.client.post(f"/v1/tasks/{task_id}/claim", json={"assignee": "bo@shop.example"}, headers=AUTH)
    unknown = api.client.post("/v1/tasks/task_nope/claim", json={"assignee": "bo@shop.example"}, headers=AUTH)
    blank = api.client.post(f"/v1/tasks/{task_id}/claim", json={"assignee": ""}, headers=AUTH)

    assert taken.status_code == 409
    assert "assigned to ana@shop.example already" in taken.json()["detail"]
    assert unknown.status_code == 404
    assert blank.status_code == 422
    assert store.task(task_id).assignee == "ana@shop.example"


def test_claiming_needs_the_write_scope(memory_api):
    api, task_id = with_task(memory_api.store)
    record, read_only = mint("dashboard", ["read"], now=T0)
    api.store.save_api_key(record)

    anonymous = api.client.post(f"/v1/tasks/{task_id}/claim", json={"assignee": "ana@shop.example"})
    reader = api.client.post(
        f"/v1/tasks/{task_id}/claim",
        json={"assignee": "ana@shop.example"},
        headers={"Authorization": f"Bearer {read_only}"},
    )

    assert (anonymous.status_code, reader.status_code) == (401, 403)
    assert store_status(api, task_id) == "open"


def store_status(api, task_id: str) -> str:
    return api.store.task(task_id).status
