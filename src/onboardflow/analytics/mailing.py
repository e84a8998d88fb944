"""The weekly report by email to each journey's owner (the configured email channel), and on a schedule:
`report_schedule = "mon 08:00"` in the store's time zone, taken on once per week by whichever worker
comes first (a report run per ISO week, claimed in the store), so a restart never sends a week twice."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from onboardflow.analytics.weekly import WeeklyReport
from onboardflow.core.effects import stable_id
from onboardflow.messages.content import Delivery, DeliveryError, EmailContent
from onboardflow.ports import ReportRun, Store

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SCHEDULE = re.compile(r"^(mon|tue|wed|thu|fri|sat|sun)\s+([01]\d|2[0-3]):([0-5]\d)$")


class ReportSetupError(ValueError):
    """The schedule or the email channel is not set up as the report needs."""


def email_report(
    report: WeeklyReport, html: str, *, store: Store, channels: dict[str, Any] | None = None
) -> dict[str, str]:
    """One email per owner, naming their journeys; `channels` as `build_channels` gives them (the settings'
    if None). A failure to one owner is reported, and the others still get theirs."""
    from onboardflow.analytics.rendering import markdown_report

    channel = (channels if channels is not None else _configured(store)).get("email")
    if channel is None:
        raise ReportSetupError(
            "no email channel is configured: set ONBOARDFLOW_SMTP__HOST and "
            "ONBOARDFLOW_SMTP__FROM_ADDRESS (docs/channels.md) to email the report"
        )
    text = markdown_report(report, {})
    outcome = {}
    for owner, journeys in sorted(report.owners.items()):
        key = stable_id("report", report.period, report.as_of.isoformat(), owner)
        subject = f"Weekly onboarding report, week {report.period}: {', '.join(journeys)}"
        delivery = Delivery(
            key, key, "email", owner, owner, "transactional", EmailContent(subject, text, html)
        )
        try:
            outcome[owner] = f"sent ({channel.send(delivery)})"
        except DeliveryError as error:
            outcome[owner] = f"failed: {error.reason}"
    return outcome


def _configured(store: Store) -> dict[str, Any]:
    from onboardflow.channels.config import build_channels, load_channel_settings
    from onboardflow.engine.clock import SystemClock

    return build_channels(*load_channel_settings(), store=store, clock=SystemClock())


@dataclass(frozen=True, slots=True)
class Schedule:
    weekday: int  # 0 = Monday
    at: time
    zone: ZoneInfo

    @classmethod
    def parse(cls, text: str, zone: str) -> Schedule:
        match = SCHEDULE.match(" ".join(text.lower().split()))
        if not match:
            raise ReportSetupError(
                f"report_schedule {text!r} is not a weekly time: write a day and a 24-hour "
                'time, e.g. "mon 08:00"'
            )
        return cls(DAYS.index(match.group(1)), time(int(match.group(2)), int(match.group(3))), ZoneInfo(zone))

    def last_due(self, now: datetime) -> datetime:
        """The latest scheduled instant at or before `now`."""
        local = now.astimezone(self.zone)
        monday = local.date() - timedelta(days=local.weekday())
        due = datetime.combine(monday + timedelta(days=self.weekday), self.at, self.zone)
        return due if due <= now else due - timedelta(days=7)


@dataclass
class ScheduledReports:
    """Called each worker round: when this week's scheduled time has passed and the week's report run is
    not claimed yet, claim it, build the report as of the scheduled time, write it and email it."""

    store: Store
    schedule: Schedule
    folder: Path
    send: Callable[[WeeklyReport, Path], dict[str, str]]
    zone: str = "UTC"

    def run_due(self, now: datetime) -> ReportRun | None:
        from onboardflow.analytics.kpis import entry_week
        from onboardflow.analytics.weekly import build_weekly, write_weekly

        due = self.schedule.last_due(now)
        period = entry_week(due.astimezone(self.schedule.zone))
        report = None
        run = ReportRun(f"weekly:{period}", "weekly", period, now)
        if not self.store.claim_report_run(run):
            return None
        report = build_weekly(self.store, as_of=due, zone=self.zone)
        html, _ = write_weekly(report, self.folder)
        self.send(report, html)
        return run
