"""The demo: a simulated shop sends store events, the example journeys run on a virtual clock.

The same engine as production; only the clock (virtual) and the channels (sandbox) differ.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table
from rich.tree import Tree

from onboardflow.catalog import example_files, example_templates
from onboardflow.channels.sandbox import sandbox_channels
from onboardflow.core.model import Event
from onboardflow.core.validation import load_journey
from onboardflow.core.version import JourneyVersion
from onboardflow.engine.clock import VirtualClock
from onboardflow.engine.dispatcher import Dispatcher, DispatchResult
from onboardflow.engine.engine import Engine
from onboardflow.engine.webhooks import CallsResult
from onboardflow.simulation.personas import built_in_personas
from onboardflow.simulation.shop import START as SHOP_START
from onboardflow.simulation.shop import Shop, recorded_stream

START = SHOP_START  # the simulated shop opens on a Monday morning
# the served workspace's escalation rules (docs/escalation.md): the shop's late, failed and refunded orders
# and its big spenders open tasks for the support team
DEMO_RULES = """
rules:
  - {rule: late_delivery, due: 24h}
  - {rule: failed_delivery, priority: urgent}
  - {rule: refund_request, queue: refunds}
  - {rule: payment_failure, queue: billing, due: 4h}
  - {rule: high_value, order_total: 250, queue: vip}
"""


def shop_events(*, customers: int, days: int, seed: int, start: datetime = START) -> list[Event]:
    """A deterministic stream of a small shop's events, from the built-in personas of the simulator:
    signups, logins, orders, payments, deliveries (some late, some failed), tickets, refunds, reviews,
    reorders, renewals. Nobody reacts to messages here; `onboardflow simulate` has them do so."""
    return _stream(customers, days, seed, start)[1]


def _stream(customers: int, days: int, seed: int, start: datetime) -> tuple[list[Event], list[Event]]:
    return recorded_stream(Shop(built_in_personas(), customers=customers, days=days, seed=seed, start=start))


def demo_rules() -> list:
    from onboardflow.escalation.rules import read_rules

    return read_rules(DEMO_RULES, source="demo rules")


def demo_journeys() -> list[JourneyVersion]:
    return [load_journey(text, source=f"examples/{name}") for name, text in example_files()]


def run_demo(
    console: Console,
    *,
    customers: int,
    days: int,
    seed: int,
    database_url: str,
    journeys: list[JourneyVersion] | None = None,
    environ: Mapping[str, str] | None = None,
    rules: list | None = None,
) -> None:
    """Run `journeys` (the examples if None) on the simulated shop; webhook steps' secrets from `environ`;
    escalation `rules` open tasks."""
    from onboardflow.store.sql import open_store

    if database_url.startswith("sqlite:///"):
        Path(database_url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    store = open_store(database_url)
    clock = VirtualClock(START)
    engine = Engine(store, clock=clock, rules=rules or [])
    console.rule("[bold]onboardflow demo")
    for version in demo_journeys() if journeys is None else journeys:
        launch_through_review(engine, version, console)
    history, events = _stream(customers, days, seed, START)
    engine.ingest(history, at_event_time=True, journeys=False)  # past orders: in profiles only
    console.print(f"simulated shop: {customers} customers, {len(events)} events over {days} days\n")
    shown = []
    channels = sandbox_channels(printer=lambda line: shown.append(line))
    dispatcher = Dispatcher(store, engine.catalog, channels, templates=example_templates(),
                            clock=engine.clock)
    end = START + timedelta(days=days)
    result = engine.replay(events)
    result.add(engine.run_timers_until(end))
    with httpx.Client(follow_redirects=False) as http:
        called = _settle_calls(engine, http, os.environ if environ is None else environ, end, result)
    delivered = _dispatch_all(dispatcher, clock.now())
    for line in shown[:15]:
        console.print("  " + line, highlight=False, markup=False)
    if len(shown) > 15:
        console.print(f"  … and {len(shown) - 15} more messages\n")
    if called.total:
        console.print(f"webhook calls: {called.succeeded} succeeded, {called.failed} failed, "
                      f"{called.retried} to retry later")
    _show_outcome(console, engine, result, delivered)
    store.close()


DEMO_AUTHOR = "lifecycle@shop.example"


def launch_through_review(engine: Engine, version: JourneyVersion, console: Console) -> None:
    """The way every journey goes live: its author loads it as a draft and submits it, its owner approves
    it once a simulation of this exact version passes its acceptance criteria, and launches it."""
    from onboardflow.governance import launch, people, service
    from onboardflow.governance.evidence import SimulationPlan, simulate_version

    store, now = engine.store, engine.clock.now()
    author, _ = people.add_user(store=store, email=DEMO_AUTHOR, name="Lifecycle marketer", roles="author",
                                password=None, now=now)
    owner, _ = people.add_user(store=store, email=version.journey.owner, name="Journey owner",
                               roles="owner,reviewer", password=None, now=now)
    draft, _ = service.save_draft(store=store, version=version, source=f"examples/{version.id}.yaml",
                                  author=author, now=now)
    service.submit(store=store, journey_id=draft.journey_id, version=draft.version, actor=author, now=now)
    evidence = simulate_version(store.version(draft.journey_id, draft.version), templates=example_templates(),
                                plan=SimulationPlan(customers=100, days=14))
    service.approve(store=store, journey_id=draft.journey_id, version=draft.version, actor=owner,
                    evidence=evidence, now=now)
    live, _ = launch.launch(engine=engine, journey_id=draft.journey_id, version=draft.version, actor=owner)
    console.print(f"journey live: [bold]{live.journey_id}[/] v{live.version} — {version.journey.name} "
                  f"(by {author.email}; approved and launched by {owner.email} after "
                  f"{len(evidence['acceptance'])} acceptance criteria passed in a simulation)")


def _settle_calls(engine: Engine, http: httpx.Client, environ: Mapping[str, str], end: datetime,
                  result) -> CallsResult:
    """Make the webhook calls the journeys asked for, and run what their answers lead to, up to `end`.

    The answers come at the clock's time after the replay: the demo does not interleave them with it.
    """
    total = CallsResult()
    while True:
        made = engine.run_due_calls(http=http, environ=environ, limit=1000)
        total.add(made)
        if not (made.succeeded or made.failed):  # a retry waits past the demo's end
            return total
        result.add(engine.run_timers_until(end))


def _dispatch_all(dispatcher: Dispatcher, now: datetime) -> DispatchResult:
    """Every message of the replay, each decided at the time it was due (quiet hours, caps), in order."""
    total = DispatchResult()
    while True:
        sent = dispatcher.dispatch_due(now=now, limit=1000, at_due_time=True)
        if not sent.total:
            return total
        total.add(sent)


def _show_outcome(console: Console, engine: Engine, result, delivered: DispatchResult) -> None:
    console.print(
        f"engine: {result.events} events, {result.started} enrollments started, "
        f"{result.timers_fired} timers fired, {delivered.delivered} messages delivered (sandbox), "
        f"{delivered.skipped} skipped by consent or caps, {delivered.deferred} put off by quiet hours or caps on the way\n"
    )
    by_step = Counter()
    for row in engine.store.messages():
        by_step[(row.message.journey_id, row.message.step_id)] += 1
    positions = engine.store.step_counts()
    for version in engine.catalog.live:
        console.print(_journey_tree(version, by_step, positions))
    console.print(_exit_table(positions))


def _journey_tree(version: JourneyVersion, sent: Counter, positions) -> Tree:
    here = Counter()
    for journey_id, _, step_id, state, count in positions:
        if journey_id == version.id:
            here[(step_id, state)] += count
    tree = Tree(f"[bold]{version.id}[/]  trigger: {version.journey.trigger.event}")
    for step in version.journey.steps:
        waiting = here[(step.id, "active")]
        ended = sum(n for (sid, state), n in here.items() if sid == step.id and state != "active")
        label = f"{step.id} [dim]({step.kind})[/]"
        if step.kind == "send":
            label += f"  ✉ {sent[(version.id, step.id)]} sent"
        if waiting:
            label += f"  ⏳ {waiting} waiting"
        if ended:
            label += f"  ■ {ended} ended here"
        tree.add(label)
    return tree


def _exit_table(positions) -> Table:
    table = Table(title="enrollments by journey and state")
    for name in ("journey", "state", "enrollments"):
        table.add_column(name, justify="right" if name == "enrollments" else "left")
    tally = Counter()
    for journey_id, _, _, state, count in positions:
        tally[(journey_id, state)] += count
    for (journey_id, state), count in sorted(tally.items()):
        table.add_row(journey_id, state, str(count))
    return table
