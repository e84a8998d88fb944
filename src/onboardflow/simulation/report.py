"""The HTML report of a run: one self-contained page (inline CSS and SVG, nothing fetched). Its sections
(`acceptance_section`, `journey_section`, `timeline_list` ...) are the web UI's Simulate page too.

Acceptance results first, with the counter-examples' timelines; then warnings; then, per journey, its
graph with the traffic on each edge, the funnel of entrants per step and goal conversion; then the
messages delivered over time and how many each customer got per day and week; then sample timelines.
"""

from __future__ import annotations

from html import escape
from typing import Any

from onboardflow.simulation.graph import layout
from onboardflow.simulation.results import Result
from onboardflow.simulation.svg import daily_svg, funnel_svg, graph_svg

SAMPLE_TIMELINES = 12
PAGE_STYLE = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0 auto;max-width:1200px;
padding:24px;color:#222}
h1{font-size:22px;margin:0 0 4px}
h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
h3{font-size:15px;margin:18px 0 6px} .run{color:#555;margin:0}
"""
# the sections' own style: tables, verdicts, timelines, pictures (the web UI's Simulate page has it too)
SECTION_STYLE = """
table{border-collapse:collapse;margin:6px 0}
td,th{padding:4px 8px;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
th{font-weight:600;background:#fafafa} td.num,th.num{text-align:right}
.verdict{font-size:16px;font-weight:600;padding:8px 12px;border-radius:6px;display:inline-block}
.verdict.passed{background:#e6f4ea;color:#1e6b34} .verdict.failed{background:#fce8e6;color:#a50e0e}
tr.criterion.passed td.status{color:#1e6b34} tr.criterion.failed td.status{color:#a50e0e;font-weight:700}
details{margin:4px 0 4px 12px} summary{cursor:pointer}
ol.timeline{font:12px/1.4 ui-monospace,Menlo,Consolas,monospace;margin:4px 0 8px;padding-left:20px}
ol.timeline li.message.delivered{color:#1a4d8f}
ol.timeline li.message.skipped,ol.timeline li.message.undeliverable{color:#a50e0e}
ol.timeline li.task{color:#8a4b00;font-weight:600} ol.timeline .why{color:#666}
ul.warnings li.exception{color:#a50e0e;font-weight:600} svg{max-width:100%;height:auto;background:#fff}
svg.graph rect{fill:#f4f7fb;stroke:#4e79a7;stroke-width:1.2}
svg.graph .unreached rect{fill:#fff;stroke:#c33;stroke-dasharray:4 3}
svg.graph .step-id{font-weight:600;font-size:13px} svg.graph .step-kind{font-size:11px;fill:#555}
svg.graph .edge path{fill:none;stroke:#555} svg.graph .edge.exception path{stroke:#c0582a}
svg.graph .edge.untaken path{stroke:#bbb;stroke-dasharray:5 4}
svg.graph .edge .count{font-size:11px;fill:#222;font-weight:600}
svg.graph .edge .way{font-size:10px;fill:#555;font-style:italic} svg.funnel rect{fill:#4e79a7}
svg.funnel text{font-size:12px} svg .tick{font-size:10px;fill:#666} svg .axis{stroke:#999}
svg.messages-over-time text{font-size:11px}
"""
STYLE = PAGE_STYLE + SECTION_STYLE


def render_report(result: Result) -> str:
    doc = result.document(timelines="counterexamples")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>{escape(_title(result))}</title>",
        f"<style>{STYLE}</style>",
        "</head>",
        "<body>",
        _header(result),
        acceptance_section(doc),
        warnings_section(doc["warnings"]),
    ]
    for version in result.journeys:
        parts.append(journey_section(version, doc))
    parts.extend([messages_section(doc), _timelines(result), "</body>", "</html>"])
    return "\n".join(parts) + "\n"


def _title(result: Result) -> str:
    kind = "Simulation" if result.run["kind"] == "simulate" else "Replay"
    return f"{kind} of {', '.join(version.id for version in result.journeys)}"


def _header(result: Result) -> str:
    run = result.run
    if run["kind"] == "simulate":
        what = f"{run['customers']} customers · {run['days']} days · seed {run['seed']}"
    else:
        what = f"{run['events']} recorded events"
    return (
        f'<header><h1>{escape(_title(result))}</h1><p class="run">{escape(what)} · '
        f"{escape(run['start'])} → {escape(run['end'])}</p></header>"
    )


def acceptance_section(doc: dict) -> str:
    verdicts = doc["acceptance"]
    failed = [v for v in verdicts if not v["passed"]]
    if not verdicts:
        summary = '<p class="verdict passed">No acceptance criteria declared</p>'
    elif failed:
        summary = f'<p class="verdict failed">{len(failed)} of {len(verdicts)} criteria failed</p>'
    else:
        summary = f'<p class="verdict passed">All {len(verdicts)} criteria passed</p>'
    rows = "".join(_criterion(verdict) for verdict in verdicts)
    table = (
        (
            '<table class="criteria"><tr><th></th><th>journey</th><th>criterion</th><th>result</th></tr>'
            f"{rows}</table>"
        )
        if verdicts
        else ""
    )
    return f'<section id="acceptance"><h2>Acceptance</h2>{summary}{table}</section>'


def _criterion(verdict: dict) -> str:
    state = "passed" if verdict["passed"] else "failed"
    examples = "".join(
        f'<details class="counterexample" data-customer="{escape(e["customer_id"])}"><summary>'
        f"{escape(e['customer_id'])}: {escape(e['why'])}</summary>{timeline_list(e['timeline'])}</details>"
        for e in verdict["counterexamples"]
    )
    more = verdict["breaking"] - len(verdict["counterexamples"])
    if more > 0:
        examples += f'<p class="more">… and {more} more customer(s)</p>'
    return (
        f'<tr class="criterion {state}" data-kind="{verdict["kind"]}" '
        f'data-journey="{escape(verdict["journey_id"])}"'
        f' data-breaking="{verdict["breaking"]}"><td class="status">{"✓" if verdict["passed"] else "✗"}</td>'
        f"<td>{escape(verdict['journey_id'])}</td><td>{escape(verdict['criterion'])}</td>"
        f"<td>{escape(verdict['detail'])}{examples}</td></tr>"
    )


def warnings_section(warnings: list[dict]) -> str:
    if not warnings:
        return (
            '<section id="warnings"><h2>Warnings</h2><p>Every step and every way out was taken.</p></section>'
        )
    items = "".join(
        f'<li class="{"exception" if w["exception"] else "plain"}">{escape(w["message"])}'
        f"{' (exception path)' if w['exception'] else ''}</li>"
        for w in warnings
    )
    return f'<section id="warnings"><h2>Warnings</h2><ul class="warnings">{items}</ul></section>'


def journey_section(version, doc: dict) -> str:
    steps, edges, goals = doc["steps"][version.id], doc["edges"][version.id], doc["goals"][version.id]
    exits = "".join(
        f"<tr><td>{escape(str(reason))}</td><td class=num>{count}</td></tr>"
        for reason, count in doc["exits"][version.id].items()
    )
    return (
        f'<section class="journey" id="journey-{escape(version.id)}" data-journey="{escape(version.id)}">'
        f"<h2>{escape(version.id)} v{version.version}: {escape(version.journey.name)}</h2>"
        f'<h3>Graph</h3><figure class="graph">{graph_svg(version, layout(version), edges, steps)}</figure>'
        f'<h3>Funnel</h3><figure class="funnel">{funnel_svg(version.id, steps)}</figure>'
        f"<h3>Goal conversion</h3>{_goals(goals)}"
        '<h3>How enrollments ended</h3><table class="exits">'
        "<tr><th>exit</th><th class=num>enrollments</th></tr>"
        f"{exits}</table></section>"
    )


def _goals(goals: dict[str, Any]) -> str:
    if goals["goal"] is None:
        return "<p>The journey declares no goal.</p>"
    rows = "".join(
        f'<tr data-group="{group}"><td>{label}</td><td class=num>{goals[group]["entrants"]}</td>'
        f"<td class=num>{goals[group]['converted']}</td><td class=num>{_rate(goals[group]['rate'])}</td></tr>"
        for group, label in (("journey", "treated"), ("holdout", "holdout"))
    )
    uplift = "" if goals["uplift"] is None else f'<p class="uplift">Uplift: {goals["uplift"]:+.2f} points</p>'
    return (
        f'<table class="goals"><tr><th>group</th><th class=num>entrants</th><th class=num>reached '
        f"{escape(goals['goal'])}</th><th class=num>rate</th></tr>{rows}</table>{uplift}"
    )


def _rate(rate: float | None) -> str:
    return "–" if rate is None else f"{rate:.2f}%"


def messages_section(doc: dict) -> str:
    frequency = doc["frequency"]
    rows = "".join(
        f'<tr data-span="{span}"><td>{label}</td><td class=num>{frequency[span]["max"]}</td>'
        f"<td class=num>{frequency[span]['mean']}</td>"
        f"<td>{', '.join(f'{k}: {v}' for k, v in frequency[span]['histogram'].items())}</td></tr>"
        for span, label in (("per_day", "per day"), ("per_week", "per week"))
    )
    outcomes = "".join(
        f"<tr><td>{escape(name)}</td><td class=num>{count}</td></tr>"
        for name, count in doc["outcomes"].items()
    )
    return (
        '<section id="messages"><h2>Messages over time</h2>'
        f'<figure class="chart">{daily_svg(doc["daily"])}</figure>'
        '<h3>Messages per customer</h3><table class="frequency"><tr><th></th><th class=num>most</th>'
        f"<th class=num>mean</th><th>customer-days (or weeks) with 1, 2, … messages</th></tr>{rows}</table>"
        '<h3>What the dispatcher did</h3><table class="outcomes">'
        "<tr><th>decision</th><th class=num>times</th>"
        f"</tr>{outcomes}</table></section>"
    )


def _timelines(result: Result) -> str:
    shown = sorted(result.timelines)[:SAMPLE_TIMELINES]
    items = "".join(
        f'<details class="sample" data-customer="{escape(cid)}"><summary>{escape(cid)}</summary>'
        f"{timeline_list(result.timelines[cid])}</details>"
        for cid in shown
    )
    return f'<section id="timelines"><h2>Sample timelines</h2>{items}</section>'


def timeline_list(entries: list[dict]) -> str:
    return '<ol class="timeline">' + "".join(_entry(entry) for entry in entries) + "</ol>"


def _entry(entry: dict) -> str:
    kind, at = entry["kind"], entry["at"][:16].replace("T", " ")
    if kind == "event":
        details = ", ".join(f"{k}={v}" for k, v in entry.get("details", {}).items())
        text = entry["name"] + (f" ({details})" if details else "")
    elif kind == "message":
        text = (
            f"{entry['status']} {entry['journey_id']}/{entry['step_id']} {entry['template']} "
            f"({entry['purpose']}) on {entry['channel'] or 'no channel'}"
        )
        if entry.get("why"):
            text += f' <span class="why">— {escape(entry["why"])}</span>'
        return f'<li class="message {escape(entry["status"].replace(" ", "-"))}">{at} {_plain(text)}</li>'
    elif kind == "task":
        text = f"task {entry['journey_id']}/{entry['step_id']}: {entry['reason']} ({entry['priority']})"
    elif kind == "step":
        text = f"{entry['journey_id']} → {entry['step_id']} ({entry['step_kind']})"
    elif kind == "enter":
        text = f"enters {entry['journey_id']} ({entry['group']} group)"
    elif kind == "exit":
        text = f"leaves {entry['journey_id']}: {entry['reason']}"
    else:
        text = f"reaches the goal of {entry['journey_id']}"
    return f'<li class="{kind}">{at} {escape(text)}</li>'


def _plain(text: str) -> str:
    """Escape all but the one span a message entry adds."""
    head, sep, tail = text.partition(' <span class="why">')
    return escape(head) + (sep + tail if sep else "")
