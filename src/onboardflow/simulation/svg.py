"""The report's pictures as inline SVG: a journey's graph with the traffic on each edge, the funnel of
entrants per step, and the messages delivered each day. Drawn by hand: no library, no network."""

from __future__ import annotations

import math
from html import escape
from typing import Any

from onboardflow.core.version import JourneyVersion
from onboardflow.simulation.graph import Layout

NODE_W, NODE_H, GAP_X, GAP_Y, MARGIN = 176, 46, 40, 56, 24
CHANNEL_COLOURS = {
    "email": "#4e79a7",
    "sms": "#f28e2b",
    "whatsapp": "#59a14f",
    "push": "#e15759",
    "in_app": "#76b7b2",
}
OTHER_COLOUR = "#9c755f"
ARROW = (
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" '
    'markerUnits="userSpaceOnUse" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#555"/>'
    "</marker></defs>"
)


def _attrs(**values: Any) -> str:
    """Attributes from keywords: `data_step=` is `data-step`, `class_=` is `class`."""
    return " ".join(
        f'{name.rstrip("_").replace("_", "-")}="{escape(str(value))}"' for name, value in values.items()
    )


def _open(kind: str, width: float, height: float, title: str) -> list[str]:
    size = _attrs(viewBox=f"0 0 {width} {height}", width=width, height=height)
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{kind}" role="img" {size}>',
        f"<title>{escape(title)}</title>",
    ]


def graph_svg(version: JourneyVersion, layout: Layout, edges: list[dict], entrants: dict[str, int]) -> str:
    """Steps as boxes in rows by depth; each edge labelled with the enrollments that took it."""
    width = MARGIN * 2 + layout.width * (NODE_W + GAP_X) + 120  # room on the right for edges that go back
    height = MARGIN * 2 + layout.depth * (NODE_H + GAP_Y)
    busiest = max((edge["count"] for edge in edges), default=0)
    parts = [*_open("graph", width, height, f"{version.id}: steps and the traffic on each edge"), ARROW]
    parts.extend(_edge(edge, layout, busiest, index) for index, edge in enumerate(edges))
    parts.extend(
        _node(step.id, step.kind, entrants.get(step.id, 0), layout) for step in version.journey.steps
    )
    parts.append("</svg>")
    return "\n".join(parts)


def _box(step_id: str, layout: Layout) -> tuple[float, float]:
    return (
        MARGIN + layout.columns[step_id] * (NODE_W + GAP_X),
        MARGIN + layout.rows[step_id] * (NODE_H + GAP_Y),
    )


def _node(step_id: str, kind: str, count: int, layout: Layout) -> str:
    x, y = _box(step_id, layout)
    state = "reached" if count else "unreached"
    return (
        f'<g class="node {state}" {_attrs(data_step=step_id, data_kind=kind, data_entrants=count)}>'
        f"<rect {_attrs(x=x, y=y, width=NODE_W, height=NODE_H, rx=6)}/>"
        f'<text {_attrs(x=x + 10, y=y + 19)} class="step-id">{escape(step_id)}</text>'
        f'<text {_attrs(x=x + 10, y=y + 36)} class="step-kind">{escape(kind)} · {count} entrant(s)</text></g>'
    )


def _edge(edge: dict, layout: Layout, busiest: int, index: int) -> str:
    path, label = _route(edge, layout, index)
    weight = 1 + 5 * math.log1p(edge["count"]) / math.log1p(busiest) if busiest else 1
    classes = ["edge", "exception" if edge["exception"] else "main", "taken" if edge["count"] else "untaken"]
    about = _attrs(
        data_from=edge["from"], data_to=edge["to"], data_field=edge["field"], data_count=edge["count"]
    )
    said = f"{edge['from']} → {edge['to']} ({edge['field']}): {edge['count']}"
    return (
        f'<g class="{" ".join(classes)}" {about}><title>{escape(said)}</title>'
        f'<path {_attrs(d=path, stroke_width=f"{weight:.2f}")} marker-end="url(#arrow)"/>'
        f'<text {_attrs(x=f"{label[0]:.1f}", y=f"{label[1]:.1f}")} class="count">{edge["count"]}</text>'
        f"{_way(edge['field'], label)}</g>"
    )


def _way(field: str, label: tuple[float, float]) -> str:
    """The name of a way that is not simply on to the next step (a branch, a time-out), under its count."""
    if field in PLAIN_WAYS:
        return ""
    name = ", ".join(part.removesuffix(".goto") for part in field.split(", "))
    return f'<text {_attrs(x=f"{label[0]:.1f}", y=f"{label[1] + 12:.1f}")} class="way">{escape(name)}</text>'


PLAIN_WAYS = ("(next step)", "goto")


def _route(edge: dict, layout: Layout, index: int) -> tuple[str, tuple[float, float]]:
    """The edge's path and where its count goes: down to a later row, across a row, or back up around
    the right-hand side."""
    (ax, ay), (bx, by) = _box(edge["from"], layout), _box(edge["to"], layout)
    rows = layout.rows[edge["to"]] - layout.rows[edge["from"]]
    if rows > 0:
        (sx, sy), (ex, ey) = (ax + NODE_W / 2, ay + NODE_H), (bx + NODE_W / 2, by)
        middle = (sy + ey) / 2
        return f"M {sx:.1f} {sy:.1f} C {sx:.1f} {middle:.1f}, {ex:.1f} {middle:.1f}, {ex:.1f} {ey:.1f}", (
            (sx + ex) / 2 + 4,
            middle + 4,
        )
    if rows == 0:
        leftwards = bx < ax
        (sx, sy) = (ax if leftwards else ax + NODE_W, ay + NODE_H / 2)
        (ex, ey) = (bx + NODE_W if leftwards else bx, by + NODE_H / 2)
        return f"M {sx:.1f} {sy:.1f} L {ex:.1f} {ey:.1f}", ((sx + ex) / 2 - 6, sy - 6)
    reach = MARGIN + layout.width * (NODE_W + GAP_X) + 20 + 12 * (index % 6)
    (sx, sy), (ex, ey) = (ax + NODE_W, ay + NODE_H / 2), (bx + NODE_W, by + NODE_H / 2)
    return f"M {sx:.1f} {sy:.1f} C {reach} {sy:.1f}, {reach} {ey:.1f}, {ex:.1f} {ey:.1f}", (
        reach - 8,
        (sy + ey) / 2,
    )


def funnel_svg(journey_id: str, entrants: dict[str, int]) -> str:
    """One bar per step, in file order: how many enrollments went through it."""
    bar_w, row_h, label_w = 420, 24, 190
    most = max(entrants.values(), default=0) or 1
    parts = _open(
        "funnel", label_w + bar_w + 80, MARGIN + row_h * len(entrants) + 8, f"{journey_id}: entrants per step"
    )
    for index, (step_id, count) in enumerate(entrants.items()):
        y, width = 8 + index * row_h, bar_w * count / most
        parts.append(
            f'<g class="bar" {_attrs(data_step=step_id, data_entrants=count)}>'
            f'<text {_attrs(x=label_w - 8, y=y + 16)} text-anchor="end">{escape(step_id)}</text>'
            f"<rect {_attrs(x=label_w, y=y + 3, width=f'{width:.1f}', height=row_h - 6)}/>"
            f'<text {_attrs(x=f"{label_w + width + 6:.1f}", y=y + 16)} class="count">{count}</text></g>'
        )
    parts.append("</svg>")
    return "\n".join(parts)


def daily_svg(daily: list[dict]) -> str:
    """Messages delivered per day, stacked by channel, with a legend."""
    channels = sorted({channel for day in daily for channel in day["by_channel"]})
    most = max((day["messages"] for day in daily), default=0) or 1
    plot_h, bar_w, left = 220, max(4, min(18, 900 // max(1, len(daily)))), 48
    width = left + bar_w * len(daily) + 140
    parts = _open("chart messages-over-time", width, plot_h + 60, "Messages delivered per day, by channel")
    parts += [
        f'<line {_attrs(x1=left, y1=plot_h + 10, x2=left + bar_w * len(daily), y2=plot_h + 10)} '
        'class="axis"/>',
        f'<text {_attrs(x=left - 6, y=18)} text-anchor="end" class="tick">{most}</text>',
        f'<text {_attrs(x=left - 6, y=plot_h + 10)} text-anchor="end" class="tick">0</text>',
    ]
    for index, day in enumerate(daily):
        parts.extend(_day(day, channels, left + index * bar_w, bar_w, plot_h, most))
        if index % 7 == 0:
            parts.append(
                f'<text {_attrs(x=left + index * bar_w, y=plot_h + 26)} class="tick">{day["day"][5:]}</text>'
            )
    for index, channel in enumerate(channels):
        colour, y = CHANNEL_COLOURS.get(channel, OTHER_COLOUR), 14 + index * 18
        parts.append(
            f'<g class="legend" {_attrs(data_channel=channel)}>'
            f"<rect {_attrs(x=width - 120, y=y - 10, width=12, height=12, fill=colour)}/>"
            f"<text {_attrs(x=width - 102, y=y)}>{escape(channel)}</text></g>"
        )
    parts.append("</svg>")
    return "\n".join(parts)


def _day(day: dict, channels: list[str], x: float, bar_w: float, plot_h: float, most: int) -> list[str]:
    """One day's bar: a rectangle per channel, stacked from the axis up."""
    parts, top = [], plot_h + 10
    for channel in channels:
        count = day["by_channel"].get(channel, 0)
        if not count:
            continue
        height = plot_h * count / most
        top -= height
        shape = _attrs(
            x=x,
            y=f"{top:.1f}",
            width=bar_w - 1,
            height=f"{height:.1f}",
            fill=CHANNEL_COLOURS.get(channel, OTHER_COLOUR),
            data_day=day["day"],
            data_channel=channel,
            data_count=count,
        )
        parts.append(
            f'<rect class="day" {shape}><title>{day["day"]} {escape(channel)}: {count}</title></rect>'
        )
    return parts
