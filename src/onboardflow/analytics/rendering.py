"""The weekly report as self-contained HTML (charts as inline PNG) and as Markdown (charts as files)."""

from __future__ import annotations

from collections.abc import Iterator
from html import escape
from typing import Any

from onboardflow.analytics.weekly import JourneySection, WeeklyReport, summary_lines

STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;color:#222}"
    "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .6em;"
    "text-align:left}th{background:#f3f3f3}img{max-width:100%}"
)


def _blocks(report: WeeklyReport, section: JourneySection) -> dict[str, list[list[str]]]:
    closure = section.closure
    impact = section.impact
    return {
        "Decisions closed this week": [
            [d.title, d.outcome or "closed", f"{d.closed_at:%Y-%m-%d}"] for d in closure.closed_recently
        ],
        "Active blockers": [
            [
                b.title,
                b.owner or "no owner",
                "no due date" if b.due_at is None else f"{b.due_at:%Y-%m-%d}",
                b.fallback or "no fallback",
            ]
            for b in closure.open_blockers
        ],
        "Latest reading": [[name, text] for name, text in summary_lines(section)],
        "Customer impact this week": [
            ["customers reached", str(impact.customers_reached)],
            ["escalations opened", str(impact.tasks_opened)],
            ["escalations resolved", str(impact.tasks_resolved)],
            ["repeat buyers", str(impact.repeat_buyers)],
        ],
    }


HEADERS = {
    "Decisions closed this week": ["decision", "outcome", "closed"],
    "Active blockers": ["blocker", "owner", "due", "fallback"],
    "Latest reading": ["KPI", "reading"],
    "Customer impact this week": ["", "customers"],
}


def _closure_line(section: JourneySection) -> str:
    rate = section.closure.rate
    return f"Decision closure: {section.closure.closed} of {section.closure.decisions} decisions closed" + (
        "" if rate is None else f" ({rate:.0%})"
    )


def _store_rows(report: WeeklyReport) -> dict[str, list[list[str]]]:
    found = report.activity
    late = "-" if found.late_share is None else f"{found.late_share:.1%}"
    return {
        "Orders": [["orders to date", str(found.orders)], ["deliveries late", late]],
        "Deliveries against the estimate": [[band, str(count)] for band, count in found.delay_bands.items()],
        "Review scores": [[f"{score} stars", str(count)] for score, count in found.review_scores.items()],
    }


def outline(report: WeeklyReport) -> Iterator[tuple[Any, ...]]:
    """The report as a sequence of (kind, ...) items, which each format writes its own way: ("h1", text),
    ("h2", text), ("h3", text), ("p", text), ("table", head, rows), ("image", chart name)."""
    yield "h1", f"Weekly report, week {report.period}"
    yield "p", f"As of {report.as_of:%Y-%m-%d %H:%M} UTC."
    for section in report.journeys:
        yield "h2", f"{section.name} ({section.journey_id}, owner {section.owner})"
        yield "p", _closure_line(section)
        for title, rows in _blocks(report, section).items():
            yield "h3", title
            yield "table", HEADERS[title], rows
        yield "h3", f"Trends, last {len(section.weeks)} weeks"
        yield "image", f"trends-{section.journey_id}"
    yield "h2", "The store"
    for title, rows in _store_rows(report).items():
        yield "h3", title
        yield "table", ["", "count"], rows
    for name in ("orders", "deliveries", "reviews"):
        yield "image", name


def html_report(report: WeeklyReport, images: dict[str, str]) -> str:
    """Self-contained HTML: `images` are base64 PNGs by chart name."""

    def table(head: list[str], rows: list[list[str]]) -> str:
        if not rows:
            return "<p>none</p>"
        cells = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows)
        return "<table><tr>" + "".join(f"<th>{escape(h)}</th>" for h in head) + f"</tr>{cells}</table>"

    def item(kind: str, *rest: Any) -> str:
        if kind == "table":
            return table(*rest)
        if kind == "image":
            name = rest[0]
            return (
                f'<img alt="{escape(name)}" src="data:image/png;base64,{images[name]}">'
                if name in images
                else ""
            )
        return f"<{kind}>{escape(rest[0])}</{kind}>"

    body = "".join(item(*entry) for entry in outline(report))
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>Weekly report {escape(report.period)}"
        f"</title><style>{STYLE}</style></head><body>{body}</body></html>"
    )


MARKS = {"h1": "# ", "h2": "## ", "h3": "### ", "p": ""}


def markdown_report(report: WeeklyReport, images: dict[str, str]) -> str:
    """Markdown: `images` are the chart files' names, beside it."""

    def table(head: list[str], rows: list[list[str]]) -> str:
        if not rows:
            return "none\n"
        lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
        return "\n".join(lines) + "\n"

    def item(kind: str, *rest: Any) -> str:
        if kind == "table":
            return table(*rest)
        if kind == "image":
            return f"![{rest[0]}]({images[rest[0]]})\n" if rest[0] in images else ""
        return f"{MARKS[kind]}{rest[0]}\n"

    return "\n".join(item(*entry) for entry in outline(report))
