"""`onboardflow webhooks`: subscriptions made, listed, disabled, enabled and removed from the command line;
deliveries listed; a test event sent to a real receiver on a local socket; bad input answered clearly."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_cli import Cli  # tests/integration is on sys.path
from test_webhook_step import Receiver, Reply

from onboardflow.store.sql import open_store

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cli]:
    url = f"sqlite:///{tmp_path}/onboardflow.db"
    monkeypatch.setenv("ONBOARDFLOW_DATABASE_URL", url)
    monkeypatch.delenv("ONBOARDFLOW_OUTBOUND_WEBHOOKS_ALLOW_PRIVATE", raising=False)
    monkeypatch.chdir(tmp_path)
    terminate = signal.getsignal(signal.SIGTERM)
    yield Cli(tmp_path, url)
    signal.signal(signal.SIGTERM, terminate)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    try:
        yield running
    finally:
        running.close()


def add(cli: Cli, url: str = "https://hooks.shop.example/in", events: str = "task.opened,message.sent",
        *more: str) -> tuple[str, str]:
    """Add a subscription; its id and secret as the command printed them."""
    lines = cli("webhooks", "add", url, "--events", events, *more).stdout.splitlines()
    subscription_id = lines[0].split()[1].rstrip(":")
    secret = lines[1].removeprefix("secret: ")
    return subscription_id, secret


def flat(text: str) -> str:
    """Typer's error box as one line: its frame and wrapping gone."""
    return " ".join(text.replace("│", " ").split())


def listed(cli: Cli) -> list[dict]:
    return [json.loads(line) for line in cli("webhooks", "list", "--json").stdout.splitlines()]


def test_a_subscription_is_added_listed_without_its_secret_disabled_enabled_and_removed(cli):
    subscription_id, secret = add(cli, "https://hooks.shop.example/in", "task.opened, message.sent",
                                  "--description", "helpdesk")

    assert subscription_id.startswith("sub_") and secret.startswith("whsec_")
    [row] = listed(cli)
    assert (row["id"], row["url"], row["events"], row["description"], row["enabled"]) == (
        subscription_id, "https://hooks.shop.example/in", ["task.opened", "message.sent"], "helpdesk", True)
    assert "secret" not in row and secret not in cli("webhooks", "list").stdout
    assert subscription_id in cli("webhooks", "list").stdout  # the table shows the whole id, to copy

    cli("webhooks", "disable", subscription_id, "--reason", "their maintenance")
    [row] = listed(cli)
    assert (row["enabled"], row["disabled_reason"]) == (False, "their maintenance")
    assert "enabled" in cli("webhooks", "enable", subscription_id).stdout
    assert listed(cli)[0]["enabled"] is True

    assert f"removed {subscription_id}" in cli("webhooks", "remove", subscription_id).stdout
    assert listed(cli) == []


def test_bad_input_says_what_to_fix_and_adds_nothing(cli):
    bad = cli("webhooks", "add", "ftp://hooks.example", "--events", "message.sen,task.opened", code=2)

    assert "✗ url: URL scheme should be 'http' or 'https'" in bad.stderr
    assert "✗ events: unknown event type(s) 'message.sen': the types are message.sent," in bad.stderr
    missing = cli("webhooks", "add", "https://hooks.example", code=2)
    assert "Missing option '--events'" in missing.output
    wrong_status = cli("webhooks", "deliveries", "--status", "lost", code=2)
    assert "'lost' is not one of 'pending', 'delivered', 'failed'" in flat(wrong_status.output)
    assert listed(cli) == []


def test_an_unknown_id_is_an_error_that_names_the_subscriptions(cli):
    subscription_id, _ = add(cli)

    for command in ("remove", "enable", "disable", "test", "rotate"):
        result = cli("webhooks", command, "sub_nope", code=1)
        assert f"no subscription 'sub_nope'; the subscriptions are: {subscription_id}" in result.stderr


def test_a_rotation_prints_the_new_secret_and_the_old_one_signs_beside_it_until_the_grace_ends(
        cli, receiver, monkeypatch):
    monkeypatch.setenv("ONBOARDFLOW_OUTBOUND_WEBHOOKS_ALLOW_PRIVATE", "true")
    subscription_id, old = add(cli, receiver.url + "/in", "journey.published")

    result = cli("webhooks", "rotate", subscription_id, "--grace-hours", "2")
    cli("webhooks", "test", subscription_id)

    new = result.stdout.splitlines()[1].removeprefix("secret: ")
    assert new.startswith("whsec_") and new != old
    assert "the old secret signs too until" in result.stderr
    [request] = receiver.received
    assert request.verified(old) == request.verified(new)  # a receiver with either secret accepts
    cli("webhooks", "rotate", subscription_id, "--grace-hours", "0")
    cli("webhooks", "test", subscription_id)
    assert len(receiver.received[1].headers["webhook-signature"].split(" ")) == 1


def test_adding_a_loopback_address_warns_that_deliveries_will_fail(cli):
    result = cli("webhooks", "add", "http://127.0.0.1:9/hooks", "--events", "*")

    warning = "! deliveries will fail: http://127.0.0.1:9/hooks leads to 127.0.0.1, a loopback address"
    assert warning in result.stderr
    assert len(listed(cli)) == 1  # added all the same: the setting may change


def test_a_test_event_reaches_the_receiver_signed_even_while_disabled(cli, receiver, monkeypatch):
    monkeypatch.setenv("ONBOARDFLOW_OUTBOUND_WEBHOOKS_ALLOW_PRIVATE", "true")
    subscription_id, secret = add(cli, receiver.url + "/in", "journey.published")
    cli("webhooks", "disable", subscription_id)  # to check the endpoint before turning it on

    result = cli("webhooks", "test", subscription_id)

    [request] = receiver.received
    body = request.verified(secret)
    assert body["type"] == "webhook.test" and body["data"]["subscription_id"] == subscription_id
    assert f"delivered webhook.test to {receiver.url}/in: 200" in result.stdout
    [delivery] = [json.loads(line) for line in cli("webhooks", "deliveries", "--json").stdout.splitlines()]
    assert (delivery["id"], delivery["event_type"], delivery["status"]) == (
        request.headers["webhook-id"], "webhook.test", "delivered")


def test_a_failed_test_says_why_and_exits_1(cli, receiver, monkeypatch):
    monkeypatch.setenv("ONBOARDFLOW_OUTBOUND_WEBHOOKS_ALLOW_PRIVATE", "true")
    receiver.answer(Reply(404, {"error": "no such hook"}))
    subscription_id, _ = add(cli, receiver.url + "/in", "*")

    result = cli("webhooks", "test", subscription_id, code=1)

    assert "✗ webhook.test to" in result.stderr and "answered 404 Not Found" in result.stderr
    assert "no such hook" in result.stderr
    [failed] = [json.loads(line) for line in
                cli("webhooks", "deliveries", "--status", "failed", "--json").stdout.splitlines()]
    assert (failed["attempts"], failed["response_status"]) == (1, 404)
    assert cli("webhooks", "deliveries", "--status", "pending", "--json").stdout == ""  # never retried


def test_without_the_setting_a_test_to_a_loopback_receiver_is_refused(cli, receiver):
    subscription_id, _ = add(cli, receiver.url + "/in", "*")

    result = cli("webhooks", "test", subscription_id, code=1)

    assert "a loopback address" in result.stderr
    assert "ONBOARDFLOW_OUTBOUND_WEBHOOKS_ALLOW_PRIVATE=true" in result.stderr
    assert receiver.received == []


def test_the_worker_delivers_what_loading_a_journey_made(cli, receiver, monkeypatch):
    monkeypatch.setenv("ONBOARDFLOW_OUTBOUND_WEBHOOKS_ALLOW_PRIVATE", "true")
    subscription_id, secret = add(cli, receiver.url + "/in", "journey.published")
    (cli.folder / "hello.yaml").write_text(
        "id: hello\nname: Hello\nowner: cs@shop.example\ntrigger: {event: Signed Up}\n"
        "steps:\n  - {id: done, exit: completed}\n", encoding="utf-8")
    cli.live("hello.yaml")

    [pending] = [json.loads(line) for line in cli("webhooks", "deliveries", "--json").stdout.splitlines()]
    assert (pending["event_type"], pending["status"]) == ("journey.published", "pending")
    assert pending["id"] in cli("webhooks", "deliveries").stdout  # whole in the table, to copy
    done = cli("run", "--until-idle", "--quiet").stdout

    assert "webhooks: 1 delivered, 0 failed" in done
    [request] = receiver.received
    assert request.verified(secret)["data"]["journey_id"] == "hello"
    store = open_store(cli.url)
    try:
        [delivery] = store.deliveries(subscription_id=subscription_id)
    finally:
        store.close()
    assert (delivery.status, delivery.attempts) == ("delivered", 1)
