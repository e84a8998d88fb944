"""The two ways to run journeys before they go live: `simulate` (synthetic customers) and `replay`
(a recorded event stream). Both set up the production engine, store, policies and sandbox channels on
a virtual clock, run, and read the result back.

A simulation can run in several processes (`workers`): customers never touch each other, so each
process runs every journey for its share of the customers on an engine of its own, and the parts add
up to the very result one process gives, byte for byte.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, wait
from datetime import datetime, timedelta
from typing import Any

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
from onboardflow.simulation.results import Result, RunParts, assemble, build_result, read_back, when
from onboardflow.simulation.runner import Simulation
from onboardflow.simulation.shop import START, Shop

Progress = Callable[[datetime], None]
_FORKED: dict[str, Any] = {}  # what the worker processes read: set just before they are forked


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
    workers: int = 1,
    on_progress: Progress | None = None,
) -> Result:
    """Run `journeys` together against `customers` synthetic customers of `personas` for `days` days,
    in `workers` processes (a given `store` runs the whole run in this one)."""
    shop = Shop(personas, customers=customers, days=days, seed=seed, start=start)
    setup = {"journeys": journeys, "templates": templates, "rules": rules, "default_zone": default_zone,
             "personas": personas, "shop": shop, "seed": seed}
    if workers > 1 and store is None and customers > 1:
        parts, live = _in_processes(setup, min(workers, customers), on_progress)
    else:
        parts, live = _run_shard(setup, None, store, on_progress)
        parts = [parts]
    run = {"kind": "simulate", "customers": customers, "days": days, "seed": seed, "start": when(start),
           "end": when(shop.end), "journeys": live, "personas": [p.id for p in personas.personas]}
    return assemble(parts, journeys=_compiled(journeys), run=run, start=start, end=shop.end)


def _run_shard(setup: dict, numbers: Iterable[int] | None, store, on_progress) -> tuple[RunParts, list[dict]]:
    shop = setup["shop"]
    engine, dispatcher = _setup(setup["journeys"], setup["templates"], setup["rules"], shop.start, store,
                                setup["default_zone"])
    behaviour = Behaviour(setup["personas"], seed=setup["seed"])
    simulation = Simulation(engine, dispatcher, end=shop.end, shop=shop, behaviour=behaviour)
    simulation.add_customers(numbers)
    log = simulation.run(on_progress)
    return read_back(store=engine.store, journeys=list(engine.catalog.live), log=log), _described(engine)


def _in_processes(setup: dict, workers: int, on_progress: Progress | None) -> tuple[list[RunParts], list]:
    """Customer n runs in process n % workers; each process reports how far its clock got."""
    context = multiprocessing.get_context("fork")
    clocks = context.Array("d", workers, lock=False)
    _FORKED.update(setup=setup, clocks=clocks)
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            futures = [pool.submit(_shard, index, workers) for index in range(workers)]
            while wait(futures, timeout=0.25).not_done:
                if on_progress is not None:
                    on_progress(setup["shop"].start + timedelta(seconds=min(clocks)))
            done = [future.result() for future in futures]
    finally:
        _FORKED.clear()
    return [parts for parts, _ in done], done[0][1]


def _shard(index: int, workers: int) -> tuple[RunParts, list[dict]]:
    setup, clocks = _FORKED["setup"], _FORKED["clocks"]
    start = setup["shop"].start

    def report(moment: datetime) -> None:
        clocks[index] = (moment - start).total_seconds()

    numbers = range(index + 1, setup["shop"].customers + 1, workers)
    return _run_shard(setup, numbers, None, report)


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
    run = {"kind": "replay", "events": len(kept), "events_after_until": len(ordered) - len(kept),
           "start": when(start), "end": when(end), "journeys": _described(engine)}
    return build_result(store=engine.store, journeys=list(engine.catalog.live), log=log, run=run, start=start,
                        end=end)


def _setup(journeys, templates, rules, start, store, default_zone) -> tuple[Engine, Dispatcher]:
    from onboardflow.store.memory import MemoryStore

    engine = Engine(store if store is not None else MemoryStore(), clock=VirtualClock(start),
                    default_zone=default_zone)
    for version in journeys:
        engine.publish(version, source=f"{version.id}.yaml")
    channels = sandbox_channels(keep=False)
    dispatcher = Dispatcher(engine.store, engine.catalog, channels, templates=templates,
                            rules=rules or PolicyRules(store_zone=default_zone))
    return engine, dispatcher


def _compiled(journeys: list[JourneyVersion]) -> list[JourneyVersion]:
    """The journeys as an engine runs them (each the first version of its id, as in a fresh store)."""
    from onboardflow.store.memory import MemoryStore

    engine = Engine(MemoryStore(), clock=VirtualClock(START))
    for version in journeys:
        engine.publish(version)
    return list(engine.catalog.live)


def _described(engine: Engine) -> list[dict]:
    return [{"id": version.id, "version": version.version, "digest": version.digest}
            for version in engine.catalog.live]


