"""The escalation path rehearsed with a real scenario: a recorded stream of events replayed through one
exact stored version on the production engine (a memory store, a virtual clock), each task it opens
resolved by the person rehearsing, as the support queue would. What came of it is kept as evidence."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from onboardflow.core.journey import Escalate
from onboardflow.core.model import Event
from onboardflow.engine.clock import VirtualClock
from onboardflow.engine.engine import Engine
from onboardflow.engine.live import stored_journey
from onboardflow.ports import StoredVersion
from onboardflow.store.memory import MemoryStore

RESOLVE_AFTER = timedelta(hours=1)  # how long the rehearsing person takes to resolve each task
HORIZON = timedelta(days=30)  # how long after the scenario's last event the rehearsal runs on
STEP = timedelta(hours=1)


def rehearse(stored: StoredVersion, events: list[Event], *, resolver: str,
             resolve_after: timedelta = RESOLVE_AFTER) -> dict[str, Any]:
    """Replay `events` through `stored`, resolve every task it opens with the escalate step's first
    outcome (or `resolved`), run the timers on to the end; the rehearsal as evidence."""
    if not events:
        raise ValueError("a rehearsal needs a scenario: give a file of events (JSON lines) that reach an "
                         "escalate step of the journey")
    version = stored_journey(stored)
    ordered = sorted(events, key=lambda event: event.at)
    engine = Engine(MemoryStore(), clock=VirtualClock(ordered[0].at - timedelta(seconds=1)))
    engine.publish(version)
    engine.replay(ordered)
    outcomes = {step.id: next(iter(step.escalate.on_outcome), "resolved")
                for step in version.journey.steps if isinstance(step, Escalate)}
    resolved: list[dict[str, Any]] = []
    horizon = ordered[-1].at + HORIZON
    while engine.clock.now() < horizon:  # hour by hour: the timers fire, the person answers each new task
        engine.run_timers_until(min(horizon, engine.clock.now() + STEP))
        for task in sorted(engine.store.tasks(status="open"), key=lambda t: (t.task.at, t.task.task_id)):
            if task.task.at + resolve_after <= engine.clock.now():
                outcome = outcomes.get(task.task.step_id, "resolved")
                engine.resolve_task(task.task.task_id, outcome=outcome, by=resolver)
                resolved.append({"task_id": task.task.task_id, "step_id": task.task.step_id,
                                 "reason": task.task.reason, "outcome": outcome})
    opened = engine.store.tasks(status=None)
    return {"digest": stored.digest, "events": len(ordered), "tasks_opened": len(opened),
            "tasks_resolved": len(resolved), "resolved": resolved}
