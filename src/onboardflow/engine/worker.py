"""The worker loop: queued events, due timers and the outbox, round after round, until told to stop."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from onboardflow.engine.dispatcher import DispatchResult, dispatch_due
from onboardflow.engine.engine import BatchResult, Engine
from onboardflow.ports import Channel


def tune_garbage_collector() -> None:
    """Collect cycles less often: a batch allocates many short-lived records and few cycles, and the
    default thresholds make the collector walk the whole heap every few hundred allocations."""
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)


@dataclass
class WorkerTotals:
    work: BatchResult = field(default_factory=BatchResult)
    dispatch: DispatchResult = field(default_factory=DispatchResult)
    rounds: int = 0


def run_worker(
    engine: Engine,
    channels: Mapping[str, Channel],
    *,
    until_idle: bool = False,
    batch_size: int = 1000,
    partitions: int = 16,
    poll_seconds: float = 1.0,
    should_stop: Callable[[], bool] = lambda: False,
    on_round: Callable[[WorkerTotals], None] | None = None,
) -> WorkerTotals:
    """Work until `should_stop` says so, or, with `until_idle`, until a round finds nothing to do."""
    totals = WorkerTotals()
    idle_rounds = 0
    while not should_stop():
        done = engine.work(batch_size=batch_size, partitions=partitions)
        sent = dispatch_due(engine.store, channels, now=engine.clock.now(), limit=batch_size)
        totals.work.add(done)
        _add_dispatch(totals.dispatch, sent)
        totals.rounds += 1
        if on_round is not None:
            on_round(totals)
        # a failed delivery is not progress: retrying it at once, round after round, would spin
        busy = done.events or done.timers_fired or sent.delivered or sent.undeliverable
        idle_rounds = 0 if busy else idle_rounds + 1
        if until_idle and idle_rounds >= 2 and engine.store.counts()["queued"] == 0:
            break
        if not busy:
            time.sleep(poll_seconds)
    return totals


def _add_dispatch(total: DispatchResult, more: DispatchResult) -> None:
    total.delivered += more.delivered
    total.undeliverable += more.undeliverable
    total.failed += more.failed
