"""`onboardflow messages`: what became of each message, and parked ones sent again."""

from __future__ import annotations

import json

from test_cli import Cli, cli  # noqa: F401  (the fixture; tests/integration is on sys.path)

from onboardflow.store.sql import open_store


def park_all(url: str) -> list[str]:
    store = open_store(url)
    try:
        ids = [row.message.message_id for row in store.messages()]
        now = store.messages()[0].message.at
        for message_id in ids:
            store.record_delivery(message_id, status="parked", channel="email", at=now,
                                  error="gave up after 8 attempt(s): provider down")
        return ids
    finally:
        store.close()


def test_parked_messages_are_listed_with_their_reason_and_retried(cli: Cli):
    cli("init")
    cli.live("journeys")
    (cli.folder / "e.jsonl").write_text(
        '{"id": "e1", "name": "Signed Up", "customer_id": "c1", "at": "2026-03-02T10:00:00Z",'
        ' "customer": {"email": "ana@example.com", "timezone": "UTC"}}\n')
    cli("ingest", "e.jsonl")
    [message_id] = park_all(cli.url)

    [parked] = [json.loads(line) for line in cli("messages", "list", "--status", "parked", "--json").output.split("\n")
                if line]
    assert (parked["message_id"], parked["error"]) == (message_id, "gave up after 8 attempt(s): provider down")
    assert message_id in cli("messages", "list").output  # the table shows whole ids

    assert "1 parked message(s) will be tried again" in cli("messages", "retry", "--all").output
    assert cli("messages", "list", "--status", "parked").output.count(message_id) == 0
    cli("run", "--until-idle", "--poll", "0", "--quiet")
    assert cli.counts()["delivered"] == 1


def test_retry_needs_ids_or_all_and_says_which_ids_were_not_parked(cli: Cli):
    cli("init")
    assert "name the parked messages to retry, or say --all" in cli("messages", "retry", code=2).output
    assert "1 of the ids named are not parked messages" in cli("messages", "retry", "msg_nope", code=1).output
