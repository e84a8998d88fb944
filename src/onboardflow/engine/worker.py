"""The worker loop: queued events, due timers, the outbox, webhook calls, outbound webhooks; round after
round until stopped."""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field

import httpx

from onboardflow.engine.dispatcher import Dispatcher, DispatchResult
from onboardflow.engine.engine import BatchResult, Engine
from onboardflow.engine.webhooks import CallsResult
from onboardflow.escalation.handoff import HandoffResult
from onboardflow.ports import Helpdesk
from onboardflow.outbound.deliverer import Deliverer, DeliveryRules, OutboundResult


def tune_garbage_collector() -> None:
    """Collect cycles less often: a batch allocates many short-lived records and few cycles, and the
    default thresholds make the collector walk the whole heap every few hundred allocations."""
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)


@dataclass
class WorkerTotals:
    work: BatchResult = field(default_factory=BatchResult)
    dispatch: DispatchResult = field(default_factory=DispatchResult)
    calls: CallsResult = field(default_factory=CallsResult)
    handoffs: HandoffResult = field(default_factory=HandoffResult)
    overdue: int = 0
    outbound: OutboundResult = field(default_factory=OutboundResult)
    reports: int = 0  # scheduled reports sent
    rounds: int = 0


def run_worker(
    engine: Engine,
    dispatcher: Dispatcher,
    *,
    until_idle: bool = False,
    batch_size: int = 1000,
    partitions: int = 16,
    calls_per_round: int = 50,
    poll_seconds: float = 1.0,
    should_stop: Callable[[], bool] = lambda: False,
    on_round: Callable[[WorkerTotals], None] | None = None,
    http: httpx.Client | None = None,
    environ: Mapping[str, str] | None = None,
    helpdesk: Helpdesk | None = None,
    delivery_rules: DeliveryRules | None = None,
    reports: Callable[[], object] | None = None,
) -> WorkerTotals:
    """Work until `should_stop` says so, or, with `until_idle`, until a round finds nothing to do.

    Webhook calls go out through `http` (a client of the worker's own if None) with signing secrets
    from `environ` (the process's environment if None); their answers are queued for the next round.
    Each round also marks overdue tasks, hands open tasks to the `helpdesk` when there is one, and steps up
    phased roll-outs whose rule holds (docs/review.md).
    Outbound webhooks go out through `http` too, as `delivery_rules` say (public addresses only if None).
    `reports`, when given, is called each round: the scheduled weekly report (analytics.mailing).
    """
    totals = WorkerTotals()
    idle_rounds = 0
    with ExitStack() as closing:
        if http is None:
            http = closing.enter_context(httpx.Client(follow_redirects=False))
        calls = _webhook_calls(engine, http, os.environ if environ is None else environ, calls_per_round)
        outbound = _outbound(engine, http, delivery_rules or DeliveryRules(), calls_per_round)
        while not should_stop():
            busy = _one_round(engine, dispatcher, (calls, outbound), totals, batch_size=batch_size,
                              partitions=partitions)
            busy = _tasks(engine, helpdesk, totals, limit=calls_per_round) or busy
            if reports is not None and reports() is not None:
                totals.reports += 1
            if on_round is not None:
                on_round(totals)
            idle_rounds = 0 if busy else idle_rounds + 1
            if until_idle and idle_rounds >= 2 and engine.store.counts()["queued"] == 0:
                break
            if not busy:
                time.sleep(poll_seconds)
    return totals


def _webhook_calls(engine: Engine, http: httpx.Client, environ: Mapping[str, str], limit: int):
    return lambda: engine.run_due_calls(http=http, environ=environ, limit=limit, queue=True)


def _tasks(engine: Engine, helpdesk: Helpdesk | None, totals: WorkerTotals, *, limit: int) -> bool:
    """Overdue tasks marked (their events queued for the next round); due hand-offs sent."""
    from onboardflow.escalation.handoff import hand_off_due
    from onboardflow.escalation.service import sweep_overdue

    from onboardflow.governance.launch import apply_step_up_rules

    overdue = len(sweep_overdue(store=engine.store, now=engine.clock.now()))
    totals.overdue += overdue
    apply_step_up_rules(engine)  # phased roll-outs whose stated metric holds: their next share
    if helpdesk is None:
        return bool(overdue)
    sent = hand_off_due(store=engine.store, helpdesk=helpdesk, clock=engine.clock, limit=limit)
    totals.handoffs.add(sent)
    return bool(overdue or sent.sent or sent.failed)


def _outbound(engine: Engine, http: httpx.Client, rules: DeliveryRules, limit: int):
    deliverer = Deliverer(engine.store, clock=engine.clock, http=http, rules=rules)
    return lambda: deliverer.deliver_due(limit=limit)


def _one_round(engine: Engine, dispatcher: Dispatcher, http_work, totals: WorkerTotals, *, batch_size: int,
               partitions: int):
    """One round of each kind of work; whether it got anything done."""
    calls, outbound = http_work
    done = engine.work(batch_size=batch_size, partitions=partitions)
    sent = dispatcher.dispatch_due(now=engine.clock.now(), limit=batch_size)
    called = calls()
    posted = outbound()
    totals.work.add(done)
    totals.dispatch.add(sent)
    totals.calls.add(called)
    totals.outbound.add(posted)
    totals.rounds += 1
    # a failed delivery or a call put off for a retry is not progress: trying at once, round after round,
    # would spin
    return bool(done.events or done.timers_fired or sent.delivered or sent.undeliverable or sent.skipped
                or called.succeeded or called.failed or posted.delivered or posted.failed)
