"""What an attached playbook adds to the approval gate and to the launch: its pre-launch checklist items,
each refused with what would close it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from onboardflow.playbooks.evidence import CLOSED_BY_APPROVAL
from onboardflow.ports import Store


def approval_problems(store: Store, journey_id: str, version: int, *, now: datetime,
                      simulation: dict[str, Any] | None = None) -> list[str]:
    """The attached playbook's pre-launch items still open (those the approval itself closes aside)."""
    return _open_items(store, journey_id, version, now, simulation, skip=CLOSED_BY_APPROVAL)


def launch_problems(store: Store, journey_id: str, version: int, *, now: datetime) -> list[str]:
    """Every pre-launch item still open at launch: implementation is gated on them all."""
    return _open_items(store, journey_id, version, now, None, skip=())


def _open_items(store, journey_id, version, now, simulation, *, skip) -> list[str]:
    from onboardflow.playbooks.service import checklist_of

    found = checklist_of(store, journey_id, version, now=now, simulation=simulation)
    if found is None:
        return []
    playbook_id, items = found
    return [f"playbook {playbook_id}: {item.text} — {item.why}" for item in items
            if item.pre_launch and not item.closed and item.evidence not in skip]
