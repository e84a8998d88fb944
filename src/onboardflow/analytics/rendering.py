"""The weekly report as self-contained HTML (charts as inline PNG) and as Markdown (charts as files)."""

from __future__ import annotations

from collections.abc import Callable
from html import escape

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


def html_report(report: WeeklyReport, images: dict[str, str]) -> str:
    def table(head: list[str], rows: list[list[str]]) -> str:
        if not rows:
            return "<p>none</p>"
        cells = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows)
        return "<table><tr>" + "".join(f"<th>{escape(h)}</th>" for h in head) + f"</tr>{cells}</table>"

    def image(name: str) -> str:
        return (
            f'<img alt="{escape(name)}" src="data:image/png;base64,{images[name]}">' if name in images else ""
        )

    parts = [
        f"<h1>Weekly report, week {escape(report.period)}</h1>",
        f"<p>As of {report.as_of:%Y-%m-%d %H:%M} UTC.</p>",
    ]
    for section in report.journeys:
        parts.append(
            f"<h2>{escape(section.name)} <small>({escape(section.journey_id)}, owner "
            f"{escape(section.owner)})</small></h2><p>{escape(_closure_line(section))}</p>"
        )
        for title, rows in _blocks(report, section).items():
            parts.append(f"<h3>{escape(title)}</h3>{table(HEADERS[title], rows)}")
        parts.append(
            f"<h3>Trends, last {len(section.weeks)} weeks</h3>{image('trends-' + section.journey_id)}"
        )
    parts.append("<h2>The store</h2>")
    for title, rows in _store_rows(report).items():
        parts.append(f"<h3>{escape(title)}</h3>{table(['', 'count'], rows)}")
    parts.extend(image(name) for name in ("orders", "deliveries", "reviews"))
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>Weekly report {escape(report.period)}"
        f"</title><style>{STYLE}</style></head><body>{''.join(parts)}</body></html>"
    )


def markdown_report(report: WeeklyReport, images: dict[str, str]) -> str:
    def table(head: list[str], rows: list[list[str]]) -> str:
        if not rows:
            return "none\n"
        cell: Callable[[str], str] = lambda text: text.replace("|", "\\|")  # noqa: E731
        lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
        lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
        return "\n".join(lines) + "\n"

    def image(name: str) -> str:
        return f"![{name}]({images[name]})\n" if name in images else ""

    parts = [f"# Weekly report, week {report.period}\n", f"As of {report.as_of:%Y-%m-%d %H:%M} UTC.\n"]
    for section in report.journeys:
        parts.append(f"## {section.name} ({section.journey_id}, owner {section.owner})\n")
        parts.append(_closure_line(section) + "\n")
        for title, rows in _blocks(report, section).items():
            parts.append(f"### {title}\n\n{table(HEADERS[title], rows)}")
        parts.append(
            f"### Trends, last {len(section.weeks)} weeks\n\n{image('trends-' + section.journey_id)}"
        )
    parts.append("## The store\n")
    for title, rows in _store_rows(report).items():
        parts.append(f"### {title}\n\n{table(['', 'count'], rows)}")
    parts.extend(image(name) for name in ("orders", "deliveries", "reviews"))
    return "\n".join(parts)
