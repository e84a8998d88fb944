"""The review rhythm after launch: each checkpoint of a playbook as a dated item, done or due or overdue.

Pure: the launch time and "now" come in; nothing reads a clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from onboardflow.playbooks.model import Playbook

DUE, DONE, OVERDUE, UPCOMING = "due", "done", "overdue", "upcoming"


@dataclass(frozen=True, slots=True)
class CheckpointRecord:
    """What a team recorded when it held a checkpoint."""

    checkpoint_id: str
    done_at: datetime
    done_by: str
    findings: tuple[tuple[str, str], ...] = ()  # (kind, text)
    decisions: tuple[str, ...] = ()
    kpi_readings: Mapping[str, object] | None = None


@dataclass(frozen=True, slots=True)
class DatedCheckpoint:
    checkpoint_id: str
    kind: str
    agenda: str
    due_at: datetime
    overdue_at: datetime
    state: str  # upcoming | due | overdue | done
    record: CheckpointRecord | None = None


def calendar(playbook: Playbook, launched_at: datetime, records: Iterable[CheckpointRecord], *,
             now: datetime) -> list[DatedCheckpoint]:
    """Every checkpoint dated from the launch, in date order: done when recorded, overdue once past its
    grace, due from its date, upcoming before."""
    done = {record.checkpoint_id: record for record in records}
    dated = []
    for checkpoint in playbook.cadence:
        due_at = launched_at + checkpoint.after
        overdue_at = due_at + checkpoint.grace
        record = done.get(checkpoint.id)
        if record is not None:
            state = DONE
        elif now >= overdue_at:
            state = OVERDUE
        elif now >= due_at:
            state = DUE
        else:
            state = UPCOMING
        dated.append(DatedCheckpoint(checkpoint.id, checkpoint.kind, checkpoint.agenda, due_at, overdue_at,
                                     state, record))
    return sorted(dated, key=lambda item: (item.due_at, item.checkpoint_id))
