"""Pausing a journey: no new entries, and nobody in it moves; what would have moved them is held.

Holding is part of the hot path (`hold_for_paused`, only while some journey is paused); resuming, which
runs what was held through the machine, is in `engine.live`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from onboardflow.core.model import Event
from onboardflow.ports import PARTITIONS, HeldEvent, JourneyState, Transaction


class JourneyNotFound(LookupError):
    """No journey has this id."""


class JourneyNotPaused(ValueError):
    """Resume was asked of a journey that runs."""


def journey_state(tx: Transaction, journey_id: str) -> JourneyState:
    """The journey's state, or JourneyNotFound naming the journeys there are."""
    states = tx.journeys()
    if journey_id not in states:
        known = ", ".join(states) or "none yet"
        raise JourneyNotFound(
            f"no journey {journey_id!r}: the journeys are: {known} (publish one with `onboardflow load FILE`)"
        )
    return states[journey_id]


def pause_journey(tx: Transaction, journey_id: str, *, now: datetime) -> JourneyState:
    """Pause the journey from `now`; a journey paused already stays paused since the first time.

    Every work partition is locked first, so a worker round that is under way finishes before the pause
    holds, and none starts until it is committed.
    """
    tx.lock_partitions(range(PARTITIONS))
    state = journey_state(tx, journey_id)
    if state.is_paused:
        return state
    tx.set_paused(journey_id, now)
    return replace(state, paused_at=now)


def hold_for_paused(batch, events: list[Event]) -> None:
    """Take the enrollments of paused journeys out of the batch, so no event moves them, and record each
    event that would have moved one, in the batch's changes, to be applied when the journey resumes."""
    catalog = batch.catalog
    held_back: dict[str, list] = {}
    for customer_id, running in batch.active.items():
        paused = [e for e in running if e.journey_id in catalog.paused]
        if paused:
            held_back[customer_id] = paused
            running[:] = [e for e in running if e.journey_id not in catalog.paused]
    if not held_back:
        return
    held = batch.changes.held
    for event in events:
        for enrollment in held_back.get(event.customer_id, ()):
            if catalog.get(enrollment.journey_id, enrollment.version).reacts_to(event.name):
                held.append(HeldEvent(enrollment.journey_id, enrollment.id, event.customer_id, event.id))
