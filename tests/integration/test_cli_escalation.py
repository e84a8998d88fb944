"""The store's escalation rules from ONBOARDFLOW_ESCALATION_RULES_FILE, and the queue worked from the command
line: list, show, claim, resolve, sweep."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from test_cli import Cli, cli  # noqa: F401  (the fixture; tests/integration is on sys.path)

from onboardflow.core.effects import OpenTask
from onboardflow.ports import Changes
from onboardflow.store.sql import open_store

RULES = "rules:\n  - {rule: refund_request, queue: refunds, due: 1h}\n  - {rule: payment_failure}\n"


@pytest.fixture
def desk(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> Cli:  # noqa: F811
    (cli.folder / "escalation.yaml").write_text(RULES, encoding="utf-8")
    monkeypatch.setenv("ONBOARDFLOW_ESCALATION_RULES_FILE", "escalation.yaml")
    return cli


def ingest(runner: Cli, *events: dict) -> None:
    lines = "".join(json.dumps(event) + "\n" for event in events)
    (runner.folder / "events.jsonl").write_text(lines, encoding="utf-8")
    runner("ingest", "events.jsonl")


def refund(at: datetime, event_id: str = "e1") -> dict:
    return {"id": event_id, "name": "Refund Requested", "customer_id": "c1", "at": at.isoformat(),
            "properties": {"order_id": "o1", "text": "It never worked"},
            "customer": {"email": "ana@example.com"}}


def listed(runner: Cli, *options: str) -> list[dict]:
    return [json.loads(line) for line in runner("tasks", "list", "--json", *options).output.splitlines()]


def test_a_rule_of_the_file_opens_a_task_that_is_claimed_shown_and_resolved(desk: Cli):
    ingest(desk, refund(datetime.now(UTC)))

    [task] = listed(desk)
    assert (task["reason"], task["queue"], task["rule"], task["journey_id"]) == (
        "refund requested", "refunds", "refund_request", None)
    claimed = desk("tasks", "claim", task["task_id"], "--as", "ana@shop.example")
    assert f"claimed {task['task_id']} (refund requested) for ana@shop.example" in claimed.output
    taken = desk("tasks", "claim", task["task_id"], "--as", "bo@shop.example", code=1)
    assert "assigned to ana@shop.example already" in taken.output
    shown = json.loads(desk("tasks", "show", task["task_id"]).output)
    assert (shown["task"]["assignee"], shown["text"], shown["customer"]["email"]) == (
        "ana@shop.example", "It never worked", "ana@example.com")

    desk("tasks", "resolve", task["task_id"], "--outcome", "refunded")
    assert listed(desk, "--status", "all")[0]["status"] == "resolved"


def test_an_overdue_task_is_listed_and_swept_once(desk: Cli):
    opened = datetime.now(UTC) - timedelta(hours=3)  # the rule's SLA is an hour: due two hours ago
    task = OpenTask("task_late", None, None, None, "c1", None, "refunds", "refund requested", "normal",
                    opened + timedelta(hours=1), opened, {}, "refund_request")
    store = open_store(desk.url)
    try:
        with store.transaction() as tx:
            tx.apply(Changes(tasks={task.task_id: task}))
    finally:
        store.close()

    [overdue] = listed(desk, "--overdue")
    first = desk("tasks", "sweep").output
    second = desk("tasks", "sweep").output

    assert overdue["overdue"] is True
    assert "1 task(s) newly overdue" in first and "0 task(s) newly overdue" in second
    assert listed(desk)[0]["priority"] == "urgent"
    assert desk.counts()["queued"] == 1  # the Task Overdue event, for the next worker round


def test_a_bad_rules_file_stops_the_engine_commands_with_each_problem(desk: Cli):
    (desk.folder / "escalation.yaml").write_text("rules:\n  - {rule: high_value}\n  - {rule: angry}\n")

    failed = desk("tasks", "resolve", "task_x", "--outcome", "x", code=1)  # no engine: not refused
    (desk.folder / "events.jsonl").write_text(json.dumps(refund(datetime.now(UTC))) + "\n")
    refused = desk("ingest", "events.jsonl", code=1)

    assert "no task 'task_x'" in failed.output
    assert "escalation.yaml:2: field rules.0: high_value needs a threshold" in refused.output
    assert "escalation.yaml:3: field rules.1: a rule needs `rule:` set to one of" in refused.output
    assert desk.counts()["events"] == 0
