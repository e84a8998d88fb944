"""Customer profiles outside events: an update as the engine takes any profile change, and one customer's
whole story as a timeline.

An update is a canonical `Profile Updated` event whose `customer` block is the change (an inline identify),
queued for the workers like every event the API takes: the engine applies it in the customer's order,
running journeys see it, and `customer.*` conditions read it. Nothing writes a profile behind the engine.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from onboardflow.compliance import consent
from onboardflow.core.consent import ConsentRecord
from onboardflow.core.effects import stable_id
from onboardflow.core.model import PROFILE_UPDATED, Customer, Event, apply_event
from onboardflow.core.profile import ADDRESSES_TRAIT
from onboardflow.ports import CustomerData, Store

SOURCE = "api"


@dataclass(frozen=True, slots=True)
class ProfileUpdate:
    """What an update did: the event queued, whether it is new, the profile as it will be once a worker
    applies the event (events queued before it may change it further), and the consent lines recorded."""

    event: Event
    queued: bool  # False: this very update (same time, same content) was taken already
    profile: Customer
    consents: list[ConsentRecord]


def profile_event(customer_id: str, changes: Mapping[str, Any], *, now: datetime) -> Event:
    """The canonical event of a profile change: fields left out or null stay as they are; `traits` merge
    into the profile's traits; `addresses` replace the `addresses` trait. Its `fields` property names
    what changed (`email`, `traits.plan`, `addresses`), for journeys that wait on one."""
    block = {name: value for name, value in changes.items() if value is not None and name != "addresses"}
    fields = [name for name in block if name != "traits"]
    fields += [f"traits.{name}" for name in block.get("traits", {})]
    if changes.get("addresses") is not None:
        block["traits"] = {**block.get("traits", {}), ADDRESSES_TRAIT: list(changes["addresses"])}
        fields.append("addresses")
    content = json.dumps(block, sort_keys=True, default=str)
    event_id = stable_id("evt", "profile", customer_id, now.isoformat(), content)
    properties = {"fields": sorted(fields), "source": SOURCE}
    return Event(event_id, PROFILE_UPDATED, customer_id, now, properties, block or None)


def update_profile(
    *,
    store: Store,
    customer_id: str,
    changes: Mapping[str, Any],
    consent_lines: Sequence[Mapping[str, Any]] = (),
    now: datetime,
) -> ProfileUpdate:
    """Queue the change for the engine and record the consent lines in the ledger (`compliance.consent`).

    Every consent line is checked before anything is written: ValueError names the bad ones.
    """
    consent.consent_records(customer_id=customer_id, lines=consent_lines, at=now, source=SOURCE)
    event = profile_event(customer_id, changes, now=now)
    queued = store.enqueue([event], now=now) > 0
    records = consent.record_consents(store=store, customer_id=customer_id, lines=consent_lines, at=now,
                                      source=SOURCE)
    current = store.customer(customer_id) or Customer(customer_id)
    return ProfileUpdate(event, queued, apply_event(current, event), records)


# the timeline: everything that happened to one customer, in time order


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    at: datetime
    kind: str  # one of KINDS
    summary: str
    ref: str  # the id of the event, enrollment, message, task or ledger line
    journey_id: str | None = None


KINDS = ("event", "queued_event", "consent", "enrollment_started", "message", "message_delivered",
         "task_opened", "task_resolved", "enrollment_ended")


def timeline(data: CustomerData) -> list[TimelineEntry]:
    """Events (processed and queued), consent lines, enrollment starts and ends, messages and tasks, oldest
    first; at the same moment an event comes before what it caused."""
    entries = [
        *(TimelineEntry(e.at, "event", e.name, e.id) for e, _ in data.events),
        *(TimelineEntry(e.at, "queued_event", f"{e.name} (queued, not applied yet)", e.id)
          for e in data.queued),
        *(TimelineEntry(r.at, "consent", f"{r.channel} {r.purpose} {r.status} ({r.source})", r.id)
          for r in data.consents),
        *_enrollment_entries(data),
        *_message_entries(data),
        *_task_entries(data),
    ]
    return sorted(entries, key=lambda entry: (entry.at, KINDS.index(entry.kind), entry.ref))


def _enrollment_entries(data: CustomerData) -> list[TimelineEntry]:
    entries = []
    for e in data.enrollments:
        group = " (holdout)" if e.is_holdout else ""
        started = f"entered {e.journey_id} v{e.version}{group}"
        entries.append(TimelineEntry(e.started_at, "enrollment_started", started, e.id, e.journey_id))
        if e.ended_at is not None:
            ended = f"left {e.journey_id} at {e.step_id}: {e.exit_reason}"
            entries.append(TimelineEntry(e.ended_at, "enrollment_ended", ended, e.id, e.journey_id))
    return entries


def _message_entries(data: CustomerData) -> list[TimelineEntry]:
    entries = []
    for row in data.messages:
        m = row.message
        channel = row.channel or "/".join(m.channels)
        why = f": {row.note or row.error}" if (row.note or row.error) else ""
        entries.append(TimelineEntry(m.at, "message", f"{m.template} on {channel}, {row.status}{why}",
                                     m.message_id, m.journey_id))
        if row.delivered_at is not None:
            entries.append(TimelineEntry(row.delivered_at, "message_delivered", f"{m.template} delivered on "
                                         f"{row.channel}", m.message_id, m.journey_id))
    return entries


def _task_entries(data: CustomerData) -> list[TimelineEntry]:
    entries = []
    for row in data.tasks:
        t = row.task
        entries.append(TimelineEntry(t.at, "task_opened", f"{t.queue}: {t.reason} ({t.priority})", t.task_id,
                                     t.journey_id))
        if row.resolved_at is not None:
            entries.append(TimelineEntry(row.resolved_at, "task_resolved", f"{t.queue}: {row.status}, "
                                         f"{row.outcome}", t.task_id, t.journey_id))
    return entries
