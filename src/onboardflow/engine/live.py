"""Live versions in the engine: publishing a version (moving customers its `migrate` maps) and resuming a
paused journey (applying what was held). The decisions are the core's; this reads and writes.

Each runs in one transaction that first locks every work partition, so no worker moves a customer of the
journey meanwhile, and a failure leaves everything as it was.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from onboardflow.core.machine import EventReceived, TimerFired, advance
from onboardflow.core.migration import MigrationInvalid, check_migration, migrate
from onboardflow.core.outbound import journey_published
from onboardflow.core.validation import check_document
from onboardflow.core.version import JourneyVersion
from onboardflow.engine.engine import Batch, Catalog
from onboardflow.engine.pausing import JourneyNotPaused, journey_state
from onboardflow.ports import PARTITIONS, Changes, JourneyState, StoredVersion, Transaction

CHUNK = 1000  # enrollments moved per read and write


@dataclass(frozen=True, slots=True)
class Publication:
    """What publishing did: the live version, whether it is new, and how many customers moved to it."""

    stored: StoredVersion
    is_new: bool
    moved: int = 0


class VersionNotFound(LookupError):
    """The journey has no version with this number."""


@dataclass(frozen=True, slots=True)
class Resumption:
    """What resuming did: the journey's state now, and the held events and due timers it applied."""

    state: JourneyState
    events: int = 0
    timers: int = 0


def publish_version(
    tx: Transaction, catalog: Catalog, version: JourneyVersion, *, source: str | None, now: datetime
) -> Publication:
    """Make `version`'s content live; the same content as the live version changes nothing. A new version
    that declares `migrate` moves the customers it maps, in this same transaction."""
    journey = version.journey
    if journey.migrate is not None:
        tx.lock_partitions(range(PARTITIONS))
    state = tx.journeys().get(journey.id)
    live = tx.version(journey.id, state.live_version) if state else None
    if live is not None and live.digest == version.digest:
        return Publication(live, is_new=False)
    old = _check(tx, catalog, version, state, source=source or f"journey {journey.id}")
    stored = tx.save_version(journey, digest=version.digest, source=source, now=now)
    published = journey_published(journey_id=journey.id, version=stored.version, name=journey.name,
                                  owner=journey.owner, digest=stored.digest, at=now)
    tx.apply(Changes(outbound=[published]))
    if old is None:
        return Publication(stored, is_new=True)
    moved = move_enrollments(tx, catalog, old, replace(version, version=stored.version), now=now)
    return Publication(stored, is_new=True, moved=moved)


def launch_version(
    tx: Transaction, catalog: Catalog, stored: StoredVersion, *, percent: float, now: datetime
) -> Publication:
    """Make a stored version (an approved draft, or the version live before: a roll-back) the live one,
    letting in `percent` of triggered customers. Its `migrate` block moves the customers it maps, as a
    publication does; without one, customers mid-journey finish on the version they are in."""
    tx.lock_partitions(range(PARTITIONS))
    state = tx.journeys().get(stored.journey_id)
    version = catalog.get(stored.journey_id, stored.version)
    is_new = state is None or state.live_version != stored.version
    old = _check(tx, catalog, version, state, source=f"journey {stored.journey_id} v{stored.version}") \
        if is_new and state is not None else None
    tx.set_live(stored.journey_id, stored.version, now=now)
    tx.set_rollout(stored.journey_id, percent)
    if is_new:
        journey = version.journey
        tx.apply(Changes(outbound=[journey_published(journey_id=journey.id, version=stored.version,
                                                     name=journey.name, owner=journey.owner,
                                                     digest=stored.digest, at=now)]))
    moved = move_enrollments(tx, catalog, old, version, now=now) if old is not None else 0
    return Publication(stored, is_new=is_new, moved=moved)


def stored_journey(stored: StoredVersion, *, migrate: Mapping[str, Any] | None = None) -> JourneyVersion:
    """A stored version's document, to publish again, with `migrate` in place of its own: a stored migrate
    block moved customers from the versions before that one, not from the version live now."""
    definition = {key: value for key, value in stored.definition.items() if key != "migrate"}
    if migrate is not None:
        definition["migrate"] = dict(migrate)
    return check_document(definition, source=f"journey {stored.journey_id} v{stored.version}",
                          version=stored.version)


def _check(tx, catalog, version, state, *, source: str) -> JourneyVersion | None:
    """The version to migrate from, once the mapping is checked against it; None when there is no migrate."""
    migration = version.journey.migrate
    if migration is None:
        return None
    latest = state.live_version if state else None  # versions are numbered 1, 2, ... and the newest is live
    exists = latest is not None and 1 <= migration.from_version <= latest
    old = catalog.get(version.id, migration.from_version) if exists else None
    paused = state is not None and state.is_paused
    problems = check_migration(version, old, latest=latest, source=source, paused=paused)
    if problems:
        raise MigrationInvalid(problems)
    return old


def move_enrollments(
    tx: Transaction, catalog: Catalog, old: JourneyVersion, new: JourneyVersion, *, now: datetime
) -> int:
    """Move every active enrollment of `old` at a step `new` maps; returns how many moved."""
    mapping = new.journey.migrate.steps
    moved, after = 0, None
    while chunk := tx.active_enrollments_at(new.id, old.version, mapping, after=after, limit=CHUNK):
        batch = Batch(tx, catalog, {e.customer_id for e in chunk}, starts=False)
        batch.run(chunk)
        for enrollment in chunk:
            customer = batch.customer(enrollment.customer_id)
            decision = migrate(old, new, enrollment, new_step_id=mapping[enrollment.step_id],
                               customer=customer, now=now, default_zone=catalog.default_zone)
            batch.take(decision, enrollment)
        tx.apply(batch.finish())
        moved += len(chunk)
        after = chunk[-1].id
    return moved


def resume_journey(tx: Transaction, catalog: Catalog, journey_id: str, *, now: datetime) -> Resumption:
    """Let the journey run again: the events held and the timers that fell due while it was paused are
    applied now, in time order per customer (an event before a timer due at the same moment)."""
    tx.lock_partitions(range(PARTITIONS))
    state = journey_state(tx, journey_id)
    if not state.is_paused:
        raise JourneyNotPaused(f"journey {journey_id!r} is not paused: nothing to resume")
    tx.set_paused(journey_id, None)
    stimuli = _held_stimuli(tx, journey_id, now)
    if stimuli:
        _apply(tx, catalog, stimuli, now=now)
    tx.release_held(journey_id)
    events = sum(1 for item in stimuli if isinstance(item[-1], EventReceived))
    return Resumption(replace(state, paused_at=None), events=events, timers=len(stimuli) - events)


def _held_stimuli(tx: Transaction, journey_id: str, now: datetime) -> list[tuple]:
    """(customer, time, order, enrollment, stimulus), sorted: what resuming applies, in the order it does."""
    stimuli = [
        (event.customer_id, event.at, 0, index, enrollment_id, EventReceived(event))
        for index, (enrollment_id, event) in enumerate(tx.held_events(journey_id))
    ]
    stimuli.extend(
        (timer.customer_id, timer.due_at, 1, index, timer.enrollment_id, TimerFired(timer.timer_id))
        for index, timer in enumerate(tx.journey_timers_due(journey_id, now))
    )
    stimuli.sort(key=lambda item: item[:4])
    return [(customer_id, enrollment_id, stimulus) for customer_id, *_, enrollment_id, stimulus in stimuli]


def _apply(tx: Transaction, catalog: Catalog, stimuli: list[tuple], *, now: datetime) -> None:
    enrollments = tx.enrollments({enrollment_id for _, enrollment_id, _ in stimuli})
    batch = Batch(tx, catalog, {customer_id for customer_id, _, _ in stimuli}, starts=False)
    batch.run(enrollments.values())
    for customer_id, enrollment_id, stimulus in stimuli:
        if isinstance(stimulus, TimerFired):
            batch.changes.fired_timers.add(stimulus.timer_id)
        enrollment = batch.changes.enrollments.get(enrollment_id) or enrollments.get(enrollment_id)
        if enrollment is None or not enrollment.is_active:
            continue
        version = catalog.get(enrollment.journey_id, enrollment.version)
        if isinstance(stimulus, EventReceived) and not version.reacts_to(stimulus.event.name):
            continue  # moved to a version that does not care for it
        decision = advance(version, enrollment, stimulus, customer=batch.customer(customer_id), now=now,
                           default_zone=catalog.default_zone)
        batch.take(decision, enrollment)
    tx.apply(batch.finish())
