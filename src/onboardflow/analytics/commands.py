"""`onboardflow kpis` (a table, or JSON) and `onboardflow report weekly` (HTML and Markdown, emailed to the
journeys' owners with --email)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from onboardflow.analytics import service
from onboardflow.analytics.cuts import CUTS
from onboardflow.analytics.reading import UnknownJourney
from onboardflow.engine.clock import SystemClock
from onboardflow.policy_settings import PolicySettings
from onboardflow.settings import Settings

console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)
report_app = typer.Typer(help="Reports on measured outcomes: `report weekly`.", no_args_is_help=True)
JourneyOption = Annotated[str | None, typer.Option("--journey", help="Only this journey (its id)")]
AsOf = Annotated[
    str | None, typer.Option("--as-of", help="Read the numbers as of this ISO time (default: now)")
]


def open_store():
    from onboardflow.store.sql import open_store

    return open_store(Settings().database_url)


def as_of_time(text: str | None) -> datetime:
    if text is None:
        return SystemClock().now()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not an ISO time, e.g. 2026-03-09 or 2026-03-09T08:00Z", param_hint="--as-of"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def failed(error: Exception) -> typer.Exit:
    errors.print(f"error: {error}", highlight=False, markup=False)
    return typer.Exit(1)


def kpis(
    journey: JourneyOption = None,
    by: Annotated[str | None, typer.Option(help=f"Cut by: {', '.join(CUTS)}")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The whole document as JSON")] = False,
    as_of: AsOf = None,
) -> None:
    """KPIs per journey: entries, completion, goal conversion, uplift over the holdout, time to first value,
    early completion, repeat purchase, escalations, consistency across cohorts, exception completion."""
    store = open_store()
    try:
        document = service.kpis(store, as_of=as_of_time(as_of), journey_id=journey, by=by)
    except (ValueError, UnknownJourney) as error:
        raise failed(error) from None
    finally:
        store.close()
    if as_json:
        print(json.dumps(document, default=str, indent=2))
        return
    console.print(kpi_table(document))
    if journey is not None and by is None:
        console.print(funnel_table(document["groups"][0]["kpis"]["funnel"]))


def percent(share: dict[str, Any]) -> str:
    return "-" if share["rate"] is None else f"{share['rate']:.0%} ({share['count']}/{share['of']})"


def hours(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.0f} h" if value < 48 else f"{value / 24:.1f} d"


def uplift_text(lift: dict[str, Any]) -> str:
    sample = f"n={lift['treated']['of']}+{lift['holdout']['of']}"
    if lift["difference"] is None:
        return f"too small to tell ({sample})"
    low, high = lift["ci95"]
    return f"{lift['difference']:+.1%} [{low:+.1%}, {high:+.1%}] {sample}"


COLUMNS = (
    ("entered", lambda k: str(k["entered"])),
    ("active", lambda k: str(k["active"])),
    ("completed", lambda k: str(k["completed"])),
    ("goal", lambda k: percent(k["goal_conversion"])),
    ("uplift (95% CI)", lambda k: uplift_text(k["uplift"])),
    (
        "value: median / p90",
        lambda k: (
            f"{hours(k['time_to_first_value']['median_hours'])} / "
            f"{hours(k['time_to_first_value']['p90_hours'])}"
        ),
    ),
    ("early completion", lambda k: percent(k["early_completion"])),
    (
        "repeat 30/60/90d",
        lambda k: " / ".join(
            "-" if s["rate"] is None else f"{s['rate']:.0%}" for s in k["repeat_purchase"].values()
        ),
    ),
    (
        "tasks /100",
        lambda k: (
            "-"
            if k["escalations"]["per_100_customers"] is None
            else f"{k['escalations']['per_100_customers']:.1f}"
        ),
    ),
    ("resolution median", lambda k: hours(k["escalations"]["time_to_resolution"]["median_hours"])),
    ("exception completion", lambda k: percent(k["exception_completion"])),
)


def kpi_table(document: dict[str, Any]) -> Table:
    """One row per KPI, one column per journey (or per group of the cut)."""
    title = f"KPIs as of {document['as_of']:%Y-%m-%d %H:%M} UTC" + (
        f", by {document['by']}" if document["by"] else ""
    )
    table = Table(title=title)
    table.add_column("KPI")
    for group in document["groups"]:
        table.add_column(group["key"], justify="right")
    for name, show in COLUMNS:
        table.add_row(name, *(show(group["kpis"]) for group in document["groups"]))
    return table


def funnel_table(rows: list[dict[str, Any]]) -> Table:
    stages = ("sent", "delivered", "opened", "clicked", "bounced", "unsubscribed", "complained")
    table = Table(title="Messages by step and channel")
    for name in ("step", "channel", *stages, "deferred", "skipped"):
        table.add_column(name, justify="left" if name in ("step", "channel") else "right")
    for row in rows:
        policies = [
            ", ".join(f"{k} {v}" for k, v in row[kind].items()) or "-" for kind in ("deferred", "skipped")
        ]
        table.add_row(row["step_id"], row["channel"], *(str(row[s]) for s in stages), *policies)
    return table


@report_app.command("weekly")
def weekly(
    journey: JourneyOption = None,
    out: Annotated[Path, typer.Option(help="The folder to write the report into")] = Path("reports"),
    email: Annotated[bool, typer.Option("--email", help="Also email it to each journey's owner")] = False,
    as_of: AsOf = None,
) -> None:
    """The weekly report as HTML and Markdown (charts beside it): the executive summary, KPI trends against
    the previous weeks, customer impact, and the store's orders, deliveries and reviews."""
    from onboardflow.analytics.weekly import build_weekly, send_weekly, write_weekly

    store = open_store()
    try:
        zone = PolicySettings().store_timezone
        report = build_weekly(store, as_of=as_of_time(as_of), journey_id=journey, zone=zone, progress=True)
        html, markdown = write_weekly(report, out)
        console.print(f"wrote {html} and {markdown}")
        if email:
            for owner, outcome in send_weekly(report, html, store=store).items():
                console.print(f"emailed {owner}: {outcome}")
    except (ValueError, UnknownJourney) as error:
        raise failed(error) from None
    finally:
        store.close()
