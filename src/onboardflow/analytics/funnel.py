"""The message funnel per step and channel, and the sends the policies deferred or skipped, by policy."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field

from onboardflow.analytics.records import OutcomeData

OPENED = ("Email Opened", "Push Opened", "In-App Message Opened")
CLICKED = ("Link Clicked", "Email Clicked")
UNSUBSCRIBED = ("Unsubscribed",)
COMPLAINED = ("Email Marked as Spam", "Spam Reported", "Complained")
BOUNCED = ("Email Bounced", "SMS Failed", "WhatsApp Failed")
STAGES = ("sent", "delivered", "opened", "clicked", "bounced", "unsubscribed", "complained")
# how a policy's note begins (core.policies.decide writes them for people): the policy it names
POLICY_NOTES = (
    ("capped by", "frequency_cap"),
    ("quiet hours", "quiet_hours"),
    ("value before selling", "no_promotion_before"),
)


def policy_of(note: str | None) -> str | None:
    """The policy a message's note names: frequency_cap, quiet_hours, no_promotion_before, else consent."""
    if not note:
        return None
    return next((policy for start, policy in POLICY_NOTES if note.startswith(start)), "consent")


@dataclass
class FunnelRow:
    step_id: str
    channel: str
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STAGES, 0))
    deferred: Counter = field(default_factory=Counter)  # by policy
    skipped: Counter = field(default_factory=Counter)


def message_funnel(data: OutcomeData, enrollment_ids: Collection[str]) -> list[FunnelRow]:
    """One row per (step, channel) of the messages these enrollments made by `as_of`.

    sent: handed to a channel (delivered, bounced or failed for good); delivered; and the customers'
    engagement events naming the message, each message counted once per stage.
    """
    engaged: dict[str, set[str]] = {}
    for event in data.engagement:
        if event.at <= data.as_of:
            engaged.setdefault(str(event.properties.get("message_id")), set()).add(_stage(event.name))
    rows: dict[tuple[str, str], FunnelRow] = {}
    for row in data.messages:
        message = row.message
        if message.enrollment_id not in enrollment_ids or message.at > data.as_of:
            continue
        channel = row.channel or "-"
        line = rows.setdefault((message.step_id, channel), FunnelRow(message.step_id, channel))
        stages = engaged.get(message.message_id, set())
        handed = row.status in ("delivered", "parked") or (row.status == "undeliverable" and row.channel)
        line.counts["sent"] += bool(handed)
        line.counts["delivered"] += row.status == "delivered"
        line.counts["bounced"] += row.status == "undeliverable" and bool(row.channel) or "bounced" in stages
        for stage in ("opened", "clicked", "unsubscribed", "complained"):
            line.counts[stage] += stage in stages
        policy = policy_of(row.note)
        if policy is not None:
            (line.skipped if row.status == "skipped" else line.deferred)[policy] += 1
    return [rows[key] for key in sorted(rows)]


def _stage(name: str) -> str:
    for stage, names in (
        ("opened", OPENED),
        ("clicked", CLICKED),
        ("unsubscribed", UNSUBSCRIBED),
        ("complained", COMPLAINED),
        ("bounced", BOUNCED),
    ):
        if name in names:
            return stage
    return "other"


ENGAGEMENT_EVENTS = (*OPENED, *CLICKED, *UNSUBSCRIBED, *COMPLAINED, *BOUNCED)
