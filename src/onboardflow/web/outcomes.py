"""The Outcomes pages (docs/outcomes.md): each journey's KPI dashboard, read through `analytics.service.kpis`
as `onboardflow kpis` and `GET /v1/kpis` read it: the headline KPIs, uplift over the holdout with its 95%
interval and sample sizes, the message funnel per step and channel, the cohort table, any cut (version,
path, segment, cohort, source…), and the trends charts of the weekly report; and the weekly report itself,
as HTML to read and as Markdown to download."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from fastapi import Request
from starlette.responses import HTMLResponse, Response

from onboardflow.analytics import service
from onboardflow.analytics.commands import COLUMNS
from onboardflow.analytics.cuts import CUTS
from onboardflow.analytics.reading import UnknownJourney
from onboardflow.analytics.rendering import html_report, markdown_report
from onboardflow.analytics.weekly import build_weekly
from onboardflow.api.dependencies import ClockDep, StoreDep
from onboardflow.api.problems import Problem
from onboardflow.policy_settings import PolicySettings
from onboardflow.web.auth import Viewer, web_router
from onboardflow.web.rendering import HEADERS, page
from onboardflow.web.workspace import journey_of

router = web_router()
STAGES = ("sent", "delivered", "opened", "clicked", "bounced", "unsubscribed", "complained")


@router.get("/outcomes")
def outcomes_index(request: Request, store: StoreDep, clock: ClockDep, viewer: Viewer) -> Response:
    """Every live journey's headline KPIs side by side, as `onboardflow kpis` prints them."""
    document = service.kpis(store, as_of=clock.now())
    return page(request, "outcomes.html", {"document": document, "columns": COLUMNS})


@router.get("/outcomes/weekly")
def weekly_html(store: StoreDep, clock: ClockDep, viewer: Viewer,
                journey: str | None = None) -> Response:
    """The weekly report as `onboardflow report weekly` writes it: self-contained HTML, charts inline."""
    report = _weekly(store, clock.now(), journey)
    images = {name: base64.b64encode(png).decode() for name, png in report.charts.items()}
    return HTMLResponse(html_report(report, images), headers=HEADERS)


@router.get("/outcomes/weekly.md")
def weekly_markdown(store: StoreDep, clock: ClockDep, viewer: Viewer,
                    journey: str | None = None) -> Response:
    """The weekly report in Markdown, its charts inline as data: images (one file to keep or send)."""
    report = _weekly(store, clock.now(), journey)
    images = {name: f"data:image/png;base64,{base64.b64encode(png).decode()}"
              for name, png in report.charts.items()}
    headers = {"Content-Disposition": f'attachment; filename="weekly-{report.as_of:%Y-%m-%d}.md"'}
    return Response(markdown_report(report, images), media_type="text/markdown; charset=utf-8",
                    headers=headers)


def _weekly(store, now: datetime, journey_id: str | None):
    try:
        return build_weekly(store, as_of=now, journey_id=journey_id or None,
                            zone=PolicySettings().store_timezone)
    except UnknownJourney as unknown:
        raise Problem(404, "No outcomes", f"{unknown}: the live journeys are at /outcomes") from None


@router.get("/outcomes/{journey_id}")
def dashboard(request: Request, journey_id: str, store: StoreDep, clock: ClockDep,
              viewer: Viewer, by: str = "cohort") -> Response:
    """One journey's dashboard: headline KPIs, uplift, funnel, the trends chart, and the cut `by`."""
    state = journey_of(store, journey_id)
    if by not in CUTS:
        raise Problem(422, "Unknown cut", f"cut by one of {', '.join(CUTS)}, not {by!r}")
    now = clock.now()
    if not state.live_version:
        return page(request, "outcome.html", {"state": state, "whole": None, "by": by, "cuts": CUTS})
    whole = service.kpis(store, as_of=now, journey_id=journey_id)
    cut = service.kpis(store, as_of=now, journey_id=journey_id, by=by)
    report = build_weekly(store, as_of=now, journey_id=journey_id, zone=PolicySettings().store_timezone)
    chart = report.charts.get(f"trends-{journey_id}")
    return page(request, "outcome.html", {
        "state": state, "whole": whole, "kpis": whole["groups"][0]["kpis"] if whole["groups"] else None,
        "cut": cut, "by": by, "cuts": CUTS, "columns": COLUMNS, "stages": STAGES,
        "chart": base64.b64encode(chart).decode() if chart else None, "tiles": _tiles,
    })


def _tiles(kpis: dict[str, Any]) -> list[tuple[str, str]]:
    """The headline numbers: each KPI as `onboardflow kpis` shows it."""
    return [(name, show(kpis)) for name, show in COLUMNS if name != "uplift (95% CI)"]
