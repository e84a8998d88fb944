"""The two ways to run journeys before they go live: `simulate` (synthetic customers) and `replay`
(a recorded event stream). Both set up the production engine, store, policies and sandbox channels on
a virtual clock, run, and read the result back."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from onboardflow.channels.sandbox import sandbox_channels
from onboardflow.core.model import Event
from onboardflow.core.policies import PolicyRules
from onboardflow.core.version import JourneyVersion
from onboardflow.engine.clock import VirtualClock
from onboardflow.engine.dispatcher import Dispatcher
from onboardflow.engine.engine import Engine
from onboardflow.messages.templates import TemplateSet
from onboardflow.simulation.behaviour import Behaviour
from onboardflow.simulation.personas import PersonaSet
from onboardflow.simulation.results import Result, build_result, when
from onboardflow.simulation.runner import Simulation
from onboardflow.simulation.shop import START, Shop

Progress = Callable[[datetime], None]


def simulate(
    *,
    journeys: list[JourneyVersion],
    personas: PersonaSet,
    customers: int,
    days: int,
    seed: int,
    templates: TemplateSet,
    rules: PolicyRules | None = None,
    start: datetime = START,
    store=None,
    default_zone: str = "UTC",
    on_progress: Progress | None = None,
) -> Result:
    """Run `journeys` together against `customers` synthetic customers of `personas` for `days` days."""
    engine, dispatcher = _setup(journeys, templates, rules, start, store, default_zone)
    shop = Shop(personas, customers=customers, days=days, seed=seed, start=start)
    simulation = Simulation(
        engine, dispatcher, end=shop.end, shop=shop, behaviour=Behaviour(personas, seed=seed)
    )
    simulation.add_customers()
    log = simulation.run(on_progress)
    run = {
        "kind": "simulate",
        "customers": customers,
        "days": days,
        "seed": seed,
        "start": when(start),
        "end": when(shop.end),
        "journeys": _described(engine),
        "personas": [p.id for p in personas.personas],
    }
    return build_result(
        store=engine.store, journeys=list(engine.catalog.live), log=log, run=run, start=start, end=shop.end
    )


def replay(
    *,
    journeys: list[JourneyVersion],
    events: Iterable[Event],
    templates: TemplateSet,
    until: datetime | None = None,
    rules: PolicyRules | None = None,
    store=None,
    default_zone: str = "UTC",
    on_progress: Progress | None = None,
) -> Result:
    """Run `journeys` over a recorded stream, in time order, up to `until` (default: the last event)."""
    ordered = sorted(events, key=lambda event: (event.at, event.id))
    if not ordered:
        raise ValueError("the event stream is empty: there is nothing to replay")
    start = ordered[0].at
    end = until if until is not None else ordered[-1].at
    if end < start:
        raise ValueError(f"--until {when(end)} is before the first event ({when(start)}): nothing would run")
    engine, dispatcher = _setup(journeys, templates, rules, start - timedelta(seconds=1), store, default_zone)
    simulation = Simulation(engine, dispatcher, end=end)
    kept = [event for event in ordered if event.at <= end]
    simulation.add_events(kept)
    log = simulation.run(on_progress)
    run = {
        "kind": "replay",
        "events": len(kept),
        "events_after_until": len(ordered) - len(kept),
        "start": when(start),
        "end": when(end),
        "journeys": _described(engine),
    }
    return build_result(
        store=engine.store, journeys=list(engine.catalog.live), log=log, run=run, start=start, end=end
    )


def _setup(journeys, templates, rules, start, store, default_zone) -> tuple[Engine, Dispatcher]:
    from onboardflow.store.memory import MemoryStore

    engine = Engine(
        store if store is not None else MemoryStore(), clock=VirtualClock(start), default_zone=default_zone
    )
    for version in journeys:
        engine.publish(version, source=f"{version.id}.yaml")
    channels = sandbox_channels(keep=False)
    dispatcher = Dispatcher(
        engine.store,
        engine.catalog,
        channels,
        templates=templates,
        rules=rules or PolicyRules(store_zone=default_zone),
    )
    return engine, dispatcher


def _described(engine: Engine) -> list[dict]:
    return [
        {"id": version.id, "version": version.version, "digest": version.digest}
        for version in engine.catalog.live
    ]
