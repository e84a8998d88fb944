"""The weekly report: the executive summary (decisions closed, blockers open, the latest reading of each
KPI), KPI trends against the previous weeks as charts, customer impact, and the store's own activity; as
self-contained HTML (charts inline) and Markdown (charts beside it); emailed to the journeys' owners."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from rich.progress import Progress

from onboardflow.analytics import activity as store_activity
from onboardflow.analytics import charts
from onboardflow.analytics.decisions import DecisionClosure, decision_closure
from onboardflow.analytics.documents import kpis_document
from onboardflow.analytics.kpis import Kpis, compute, entry_week
from onboardflow.analytics.reading import read_outcomes
from onboardflow.analytics.records import ORDER, OutcomeData
from onboardflow.ports import Store

WEEKS = 8  # this week and the seven before it
WEEK = timedelta(days=7)
TRENDS = {  # chart title -> the reading it plots
    "goal conversion %": lambda k: None if k.goal.rate is None else 100 * k.goal.rate,
    "early completion %": lambda k: (
        None if k.early_completion.rate is None else 100 * k.early_completion.rate
    ),
    "repeat purchase 30d %": lambda k: (
        None if k.repeat_purchase[30].rate is None else 100 * k.repeat_purchase[30].rate
    ),
    "tasks per 100": lambda k: k.escalations.per_100,
    "time to value (h, median)": lambda k: k.time_to_value.median_hours,
}


@dataclass(frozen=True)
class Impact:
    customers_reached: int  # customers delivered a message in the week
    tasks_opened: int
    tasks_resolved: int
    repeat_buyers: int  # customers of the journey who ordered again in the week


@dataclass(frozen=True)
class JourneySection:
    journey_id: str
    name: str
    owner: str
    latest: Kpis
    weeks: list[str]
    trend: list[Kpis]  # oldest first, the last is `latest`
    impact: Impact
    closure: DecisionClosure


@dataclass(frozen=True)
class WeeklyReport:
    as_of: datetime
    period: str  # the ISO week the report closes, e.g. 2026-W10
    journeys: list[JourneySection]
    activity: store_activity.Activity
    charts: dict[str, bytes] = field(default_factory=dict)  # file stem -> PNG

    @property
    def owners(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for section in self.journeys:
            found.setdefault(section.owner, []).append(section.journey_id)
        return found


def build_weekly(
    store: Store, *, as_of: datetime, journey_id: str | None = None, zone: str = "UTC", progress: bool = False
) -> WeeklyReport:
    """Read the store once and compute each journey's KPIs as of the end of this week and the seven before."""
    data = read_outcomes(store, as_of=as_of, journey_id=journey_id)
    ids = [journey_id] if journey_id else sorted(data.journeys)
    sections = []
    with Progress(disable=not progress, transient=True) as bar:
        task = bar.add_task("computing the weekly KPIs", total=len(ids) * WEEKS)
        for jid in ids:
            sections.append(_section(data, jid, lambda: bar.advance(task)))
    history = store.history(names=store_activity.NAMES)
    found = store_activity.activity(history, as_of=as_of, zone=ZoneInfo(zone))
    report = WeeklyReport(as_of, entry_week(as_of - timedelta(microseconds=1)), sections, found)
    return replace(report, charts=_charts(report))


def _section(data: OutcomeData, journey_id: str, advance) -> JourneySection:
    facts = data.journeys[journey_id]
    enrollments = [e for e in data.enrollments if e.journey_id == journey_id]
    ends = [data.as_of - WEEK * back for back in range(WEEKS - 1, -1, -1)]
    trend = []
    for end in ends:
        trend.append(compute(replace(data, as_of=end), facts, enrollments))
        advance()
    since = data.as_of - WEEK
    closure = decision_closure(data.decisions, data.blockers, data.as_of, since=since, journey_id=journey_id)
    return JourneySection(
        journey_id,
        facts.name,
        facts.owner,
        trend[-1],
        [entry_week(end - timedelta(microseconds=1)) for end in ends],
        trend,
        _impact(data, enrollments, since),
        closure,
    )


def _impact(data: OutcomeData, enrollments, since: datetime) -> Impact:
    ids = {e.id for e in enrollments}
    customers = {e.customer_id for e in enrollments}
    in_week = lambda at: at is not None and since < at <= data.as_of  # noqa: E731
    reached = {
        row.message.customer_id
        for row in data.messages
        if row.message.enrollment_id in ids and row.status == "delivered" and in_week(row.delivered_at)
    }
    tasks = [t for t in data.tasks if t.task.customer_id in customers]
    triggers = {e.trigger.get("id") for e in enrollments}
    buyers = {
        cid
        for cid in customers
        for event in data.events.get(cid, ())
        if event.name == ORDER and in_week(event.at) and event.id not in triggers
    }
    return Impact(
        len(reached),
        sum(in_week(t.task.at) for t in tasks),
        sum(in_week(t.resolved_at) for t in tasks),
        len(buyers),
    )


def _charts(report: WeeklyReport) -> dict[str, bytes]:
    found = {}
    for section in report.journeys:
        series = {name: [read(k) for k in section.trend] for name, read in TRENDS.items()}
        found[f"trends-{section.journey_id}"] = charts.trends(section.weeks, series, title=section.name)
    recent = list(report.activity.orders_by_week.items())[-12:]
    if recent:
        found["orders"] = charts.bars([w for w, _ in recent], [c for _, c in recent], title="Orders per week")
    bands = report.activity.delay_bands
    if any(bands.values()):
        found["deliveries"] = charts.bars(
            list(bands), list(bands.values()), title="Deliveries against the estimate", color="#dd8452"
        )
    scores = report.activity.review_scores
    if any(scores.values()):
        found["reviews"] = charts.bars(
            [f"{s}★" for s in scores], list(scores.values()), title="Review scores", color="#55a868"
        )
    return found


def summary_lines(section: JourneySection) -> list[tuple[str, str]]:
    """The latest reading of each KPI, as (name, text) for people."""
    from onboardflow.analytics.commands import COLUMNS

    document = kpis_document(section.latest)
    return [(name, show(document)) for name, show in COLUMNS]


def write_weekly(report: WeeklyReport, folder: Path) -> tuple[Path, Path]:
    """`weekly-<date>.html` (charts inline) and `weekly-<date>.md` with its charts as PNG files beside it."""
    from onboardflow.analytics.rendering import html_report, markdown_report

    folder.mkdir(parents=True, exist_ok=True)
    stem = f"weekly-{report.as_of:%Y-%m-%d}"
    images = {}
    for name, png in report.charts.items():
        path = folder / f"{stem}-{name}.png"
        path.write_bytes(png)
        images[name] = path.name
    html = folder / f"{stem}.html"
    html.write_text(
        html_report(report, {n: base64.b64encode(p).decode() for n, p in report.charts.items()}),
        encoding="utf-8",
    )
    markdown = folder / f"{stem}.md"
    markdown.write_text(markdown_report(report, images), encoding="utf-8")
    return html, markdown


def send_weekly(
    report: WeeklyReport, html: Path, *, store: Store, channels: dict[str, Any] | None = None
) -> dict[str, str]:
    """Email the report to each journey's owner through the configured email channel; what became of each."""
    from onboardflow.analytics.mailing import email_report

    return email_report(report, html.read_text(encoding="utf-8"), store=store, channels=channels)
