"""The example journeys through the installed `onboardflow` command, as a user runs them, on SQLite.

init, load, ingest a simulated shop's events, run a worker until idle, status: the outcome must be
what the same engine does in memory with the same events.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from onboardflow.catalog import example_templates
from onboardflow.channels.sandbox import sandbox_channels
from onboardflow.core.model import Event
from onboardflow.demo import demo_journeys, shop_events
from onboardflow.engine.clock import VirtualClock
from onboardflow.engine.dispatcher import Dispatcher
from onboardflow.engine.engine import Engine
from onboardflow.engine.ingest import event_to_json
from onboardflow.store.memory import MemoryStore
from onboardflow.store.sql import open_store


def find_cli() -> str:
    beside = Path(sys.executable).with_name("onboardflow")
    found = str(beside) if beside.exists() else shutil.which("onboardflow")
    assert found, "the onboardflow console script is not installed: pip install -e '.[dev]'"
    return found


CLI = find_cli()
pytestmark = pytest.mark.slow  # each test starts the command five or six times


class Shell:
    """Runs `onboardflow` as a separate process in `folder`, against the store at `url`."""

    def __init__(self, folder: Path, url: str) -> None:
        self.folder = folder
        self.url = url

    def __call__(self, *args: str, code: int = 0) -> subprocess.CompletedProcess:
        env = {**os.environ, "ONBOARDFLOW_DATABASE_URL": self.url}
        done = subprocess.run([CLI, *args], cwd=self.folder, env=env, capture_output=True, text=True,
                              timeout=300)
        command = " ".join(args)
        assert done.returncode == code, f"onboardflow {command} exited {done.returncode}\n{done.stderr}"
        return done

    def outcome(self) -> dict:
        return self._read(outcome_of)

    def decisions(self) -> list:
        return self._read(decisions_of)

    def _read(self, what):
        store = open_store(self.url)
        try:
            return what(store)
        finally:
            store.close()


def outcome_of(store) -> dict:
    """What the engine made of the stream: the same whenever it runs. (What the dispatcher then did with
    each message depends on the hour, since quiet hours follow the wall clock: see `decisions_of`.)"""
    rows = store.messages()
    customers = sorted({row.message.customer_id for row in rows})
    counts = {name: number for name, number in store.counts().items() if name != "delivered"}
    return {
        "counts": counts,
        "messages": sorted((row.message.message_id, row.message.journey_id, row.message.step_id) for row in rows),
        "enrollments": sorted(
            (e.id, e.journey_id, e.step_id, e.status, e.exit_reason)
            for customer in customers for e in store.enrollments_of(customer)
        ),
    }


def decisions_of(store) -> list[tuple[str, str, str, str | None, str]]:
    """(customer, step, status, channel, note) of every message, for the dispatcher's part."""
    return [(row.message.customer_id, row.message.step_id, row.status, row.channel, row.note or "")
            for row in store.messages()]


def in_memory(events: list[Event]) -> dict:
    """The reference: the same engine on the memory store, the events in file order, then one dispatch."""
    store = MemoryStore()
    clock = VirtualClock(datetime(2030, 1, 1, tzinfo=UTC))  # after every event, like the wall clock
    engine = Engine(store, clock=clock)
    for version in demo_journeys():
        engine.publish(version)
    engine.ingest(events)
    dispatcher = Dispatcher(store, engine.catalog, sandbox_channels(), templates=example_templates())
    while dispatcher.dispatch_due(now=clock.now(), at_due_time=True).total:
        pass
    return outcome_of(store)


def write_events(path: Path, events: list[Event]) -> Path:
    path.write_text("".join(json.dumps(event_to_json(event)) + "\n" for event in events), encoding="utf-8")
    return path


@pytest.fixture
def shell(tmp_path: Path) -> Shell:
    return Shell(tmp_path, f"sqlite:///{tmp_path}/onboardflow.db")


@pytest.fixture
def shop() -> list[Event]:
    return shop_events(customers=60, days=20, seed=5)


def status_counts(output: str) -> dict[str, int]:
    table = output.split("enrollments by step")[0]
    rows = re.findall(r"│ ([a-z ]+?)\s*│\s*(\d+) │", table)
    return {name.replace(" ", "_"): int(value) for name, value in rows}


def launch_examples(url: str) -> None:
    """The example journeys made live the way the demo does it: drafted, submitted, approved by their
    owners on a simulation, launched (in this process, on the store at `url`)."""
    from rich.console import Console

    from onboardflow.demo import launch_through_review
    from onboardflow.engine.clock import SystemClock
    from onboardflow.store.sql import open_store

    store = open_store(url)
    try:
        engine = Engine(store, clock=SystemClock())
        for version in demo_journeys():
            launch_through_review(engine, version, Console(quiet=True))
    finally:
        store.close()


def review_through_the_cli(shell) -> None:
    """An author loads and submits the examples; each owner approves (a simulation runs) and launches."""
    shell("user", "add", "ana@shop.example", "--name", "Ana", "--roles", "author")
    for owner in ("cs-lead@shop.example", "growth@shop.example"):
        shell("user", "add", owner, "--name", "Owner", "--roles", "owner")
    loaded = shell("load", "journeys", "--as", "ana@shop.example")
    assert "draft: first-purchase-welcome v1" in loaded.stdout
    for journey, owner in (("first-purchase-welcome", "cs-lead@shop.example"),
                           ("signup-activation", "growth@shop.example")):
        shell("review", "submit", journey, "1", "--as", "ana@shop.example")
        approved = shell("review", "approve", journey, "1", "--customers", "60", "--days", "14", "--as", owner)
        assert f"{journey} v1 approved by {owner}" in approved.stdout
        launched = shell("review", "launch", journey, "1", "--as", owner)
        assert f"live: {journey} v1 for 100% of triggered customers" in launched.stdout


def test_a_shop_stream_queued_and_worked_matches_the_engine_in_memory(shell, shop):
    shell("init")
    review_through_the_cli(shell)
    write_events(shell.folder / "events.jsonl", shop)

    queued = shell("ingest", "--queue", "events.jsonl")
    assert f"queued {len(shop)} event(s) for workers" in queued.stdout

    worked = shell("run", "--until-idle", "--poll", "0", "--quiet")
    assert f"worker done: {len(shop)} event(s)" in worked.stdout

    status = status_counts(shell("status").stdout)
    assert status["events"] == len(shop)
    assert status["queued"] == 0
    assert status["customers"] == 60
    assert status["messages"] > 60 and 0 < status["delivered"] <= status["messages"]
    outcome = shell.outcome()
    assert outcome == in_memory(shop)


def test_every_customer_is_welcomed_and_first_buyers_in_the_audience_start_the_welcome(shell, shop):
    shell("init")
    launch_examples(shell.url)
    write_events(shell.folder / "events.jsonl", shop)
    shell("ingest", "events.jsonl")
    shell("run", "--until-idle", "--poll", "0", "--quiet")

    outcome = shell.outcome()
    signed_up = {e.customer_id for e in shop if e.name == "Signed Up"}
    audience = {e.customer_id for e in shop if e.customer and e.customer.get("country") in ("US", "CA", "GB")}
    buyers = {e.customer_id for e in shop if e.name == "Order Completed"}
    welcomes = Counter(journey for _, journey, step in outcome["messages"] if step == "welcome")
    assert welcomes == {"signup-activation": len(signed_up), "first-purchase-welcome": len(audience & buyers)}
    decisions = shell.decisions()
    # every message was decided: sent, put off by quiet hours (the worker runs on the wall clock), or skipped
    # for want of consent; none is left claimed or failed
    assert {status for _, _, status, _, _ in decisions} <= {"delivered", "pending", "skipped"}
    assert all("quiet hours" in note for *_, status, _, note in decisions if status == "pending")
    assert all("consent" in note for *_, status, _, note in decisions if status == "skipped")
    tips = [(customer, channel) for customer, step, status, channel, _ in decisions
            if step == "usage-tips" and status == "delivered"]
    # the first channel of [whatsapp, sms, email] the customer has an address on and said yes to
    # (customers who later completed their profile changed their consent mid-stream: which channel was first
    # depends on when the tips went, so they are left out)
    changed = {e.customer_id for e in shop if e.name == "Profile Completed"}
    profiles = {e.customer_id: e.customer for e in shop if e.customer and e.customer_id not in changed}
    tips = [(customer, channel) for customer, channel in tips if customer not in changed]
    assert tips and all(channel == first_allowed(profiles[customer]) for customer, channel in tips)


def first_allowed(profile: dict) -> str:
    for channel in ("whatsapp", "sms", "email"):
        address = profile.get("email" if channel == "email" else "phone")
        if address and profile["consent"][channel]["status"] == "granted":
            return channel
    raise AssertionError(f"no channel allows the tips: {profile}")


def test_the_same_file_again_and_another_worker_run_change_nothing(shell, shop):
    shell("init")
    launch_examples(shell.url)
    write_events(shell.folder / "events.jsonl", shop)
    shell("ingest", "events.jsonl")
    shell("run", "--until-idle", "--poll", "0", "--quiet")
    before = shell.outcome()

    again = shell("ingest", "events.jsonl")
    rerun = shell("run", "--until-idle", "--poll", "0")

    assert f"0 event(s) processed, {len(shop)} duplicate(s) skipped" in again.stdout
    assert "worker done: 0 event(s), 0 timer(s) fired, 0 message(s) delivered" in rerun.stdout
    assert "→" not in rerun.stdout
    assert shell.outcome() == before


def test_bad_lines_are_rejected_and_the_rest_of_the_shop_still_runs(shell, shop):
    shell("init")
    launch_examples(shell.url)
    path = write_events(shell.folder / "events.jsonl", shop)
    lines = path.read_text().splitlines()
    lines.insert(10, '{"id": "broken"')
    lines.insert(20, json.dumps({"id": "late", "name": "Signed Up", "customer_id": "zz", "at": "2026-03-02"}))
    path.write_text("\n".join(lines) + "\n")

    ingested = shell("ingest", "events.jsonl", "--rejects", "rejects.jsonl", code=1)
    shell("run", "--until-idle", "--poll", "0", "--quiet")

    assert "events.jsonl:line 11: not valid JSON" in ingested.stderr
    assert "events.jsonl:line 21: 'at' has no time zone" in ingested.stderr
    assert len((shell.folder / "rejects.jsonl").read_text().splitlines()) == 2
    assert shell.outcome() == in_memory(shop)
