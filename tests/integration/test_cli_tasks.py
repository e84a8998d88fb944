"""`onboardflow tasks`: the hand-offs escalate steps open, listed and resolved from the command line."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from test_cli import Cli, cli  # noqa: F401  (the fixture; tests/integration is on sys.path)

JOURNEY = """\
id: check-in
name: Check in
owner: cs@shop.example
trigger: {event: Order Completed}
steps:
  - id: hand-off
    escalate: {queue: vip, reason: big first order, priority: urgent, due: 4h, wait: true,
               on_outcome: {called: thanks}}
  - {id: default-path, exit: completed}
  - {id: thanks, send: {channel: email, template: thanks}}
"""


def order_file(cli: Cli) -> str:
    at = datetime.now(UTC).isoformat()
    event = {"id": "e1", "name": "Order Completed", "customer_id": "c1", "at": at,
             "properties": {"order_id": "o1", "total": 900.0}, "customer": {"email": "ana@example.com"}}
    (cli.folder / "events.jsonl").write_text(json.dumps(event) + "\n", encoding="utf-8")
    return "events.jsonl"


def test_tasks_are_listed_and_a_resolution_moves_the_waiting_journey(cli: Cli):
    (cli.folder / "check-in.yaml").write_text(JOURNEY, encoding="utf-8")
    cli.live("check-in.yaml")
    cli("ingest", order_file(cli))

    [task] = [json.loads(line) for line in cli("tasks", "list", "--json").output.splitlines()]
    assert (task["reason"], task["priority"], task["queue"], task["status"]) == ("big first order", "urgent",
                                                                                 "vip", "open")
    task_id = task["task_id"]
    assert task_id in cli("tasks", "list").output  # the table shows the whole id, to copy

    resolved = cli("tasks", "resolve", task_id, "--outcome", "called", "--by", "agent@shop.example")
    assert f"resolved {task_id}" in resolved.output
    assert cli("tasks", "list", "--json").output == ""  # no longer open
    [done] = [json.loads(line) for line in cli("tasks", "list", "--status", "resolved", "--json").output.splitlines()]
    assert (done["outcome"], done["assignee"]) == ("called", "agent@shop.example")

    cli("run", "--until-idle", "--quiet")
    assert cli.counts()["messages"] == 1  # the `thanks` path of the `called` outcome


def test_resolving_twice_or_an_unknown_task_fails_with_a_reason(cli: Cli):
    (cli.folder / "check-in.yaml").write_text(JOURNEY, encoding="utf-8")
    cli.live("check-in.yaml")
    cli("ingest", order_file(cli))
    task_id = next(word for word in cli("tasks", "list").output.split() if word.startswith("task_"))
    cli("tasks", "resolve", task_id, "--outcome", "called")

    again = cli("tasks", "resolve", task_id, "--outcome", "called", code=1)
    assert "resolved already" in again.output
    unknown = cli("tasks", "resolve", "task_nope", "--outcome", "called", code=1)
    assert "no task 'task_nope'" in unknown.output
