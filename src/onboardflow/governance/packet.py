"""The review packet: one Markdown page with what a reviewer needs to decide on a version — its diff
against the live version, the simulation and its acceptance results, open comments, the decision log and
the risk register (overdue items flagged)."""

from __future__ import annotations

from datetime import datetime

from onboardflow.core.review import Comment, Decision, Risk, VersionReview
from onboardflow.governance.service import review_of, stored_version, version_diff
from onboardflow.ports import Store


def review_packet(*, store: Store, journey_id: str, version: int | None, now: datetime) -> str:
    """The packet for `version` (default: the newest version of the journey)."""
    numbers = [v.version for v in store.versions(journey_id)]
    if version is None and numbers:
        version = numbers[-1]
    stored = stored_version(store, journey_id, version or 0)
    review = review_of(store, journey_id, stored.version)
    live = next((v for v in store.live_versions() if v.journey_id == journey_id), None)
    comments = [c for c in store.comments(journey_id) if c.version == stored.version]
    risks = sorted(
        (r for r in store.risks(journey_id) if r.version == stored.version),
        key=lambda r: (not r.is_open, r.rank, r.due_at),
    )
    parts = [
        f"# Review packet: {stored.definition['name']} ({journey_id} v{stored.version})",
        _summary(review, stored.definition["owner"], live.version if live else None, now),
        _diff_section(store, stored, live),
        _simulation(review),
        _comments([c for c in comments if c.is_open]),
        _decisions([d for d in store.decisions(journey_id) if d.version == stored.version], now),
        _risks(risks, now),
    ]
    return "\n\n".join(parts) + "\n"


def _summary(review: VersionReview, owner: str, live: int | None, now: datetime) -> str:
    return "\n".join(
        [
            f"- status: **{review.status.replace('_', ' ')}**",
            f"- author: {review.author}; owner (who approves and launches): {owner}",
            f"- content hash: `{review.digest}`",
            f"- live version now: {f'v{live}' if live else 'none'}",
            f"- packet written: {now:%Y-%m-%d %H:%M} UTC",
        ]
    )


def _diff_section(store: Store, stored, live) -> str:
    if live is None:
        return (
            "## Changes\n\nNothing is live yet: the whole version is new.\n\n```diff\n"
            + version_diff(None, stored)
            + "```"
        )
    if live.version == stored.version:
        return f"## Changes\n\nThis is the live version (v{live.version}): no difference."
    return (
        f"## Changes against the live version (v{live.version})\n\n```diff\n{version_diff(live, stored)}```"
    )


def _simulation(review: VersionReview) -> str:
    evidence = (review.approval or {}).get("simulation")
    if not evidence:
        return (
            "## Simulation and acceptance\n\nNo approval yet: `onboardflow review approve` runs the "
            "simulation of this exact version and records it here."
        )
    lines = [
        f"## Simulation and acceptance\n\nApproved by {review.approval['by']} at {review.approval['at']}, "
        f"on a simulation of this content (`{evidence['digest']}`): seed {evidence['seed']}, "
        f"{evidence['customers']} customers over {evidence['days']} days, personas "
        f"{', '.join(evidence['personas'])}.",
        "",
        "| criterion | result | detail |",
        "| --- | --- | --- |",
    ]
    lines += [
        f"| {item['criterion']} | {'pass' if item['passed'] else '**FAIL**'} | {item['detail']} |"
        for item in evidence["acceptance"]
    ]
    goal = evidence["counts"].get("goal") or {}
    if goal:
        lines += ["", f"Goal: {goal}"]
    lines += [
        "",
        "Customers by step: "
        + ", ".join(f"{step} {count}" for step, count in evidence["counts"]["steps"].items()),
    ]
    return "\n".join(lines)


def _comments(open_comments: list[Comment]) -> str:
    if not open_comments:
        return "## Open comments\n\nNone."
    rows = [
        f"| {c.id} | {c.kind.replace('_', ' ')}{' (blocks approval)' if c.is_blocking else ''} | "
        f"{c.step_id or 'whole journey'} | {c.author} | {_cell(c.body)} |"
        for c in open_comments
    ]
    return "\n".join(
        [
            "## Open comments",
            "",
            "| id | kind | on | by | comment |",
            "| --- | --- | --- | --- | --- |",
            *rows,
        ]
    )


def _decisions(decisions: list[Decision], now: datetime) -> str:
    if not decisions:
        return "## Decisions\n\nNone yet."
    rows = [
        f"| {d.created_at:%Y-%m-%d} | {d.comment_id} | {d.outcome}"
        f"{f' until {d.due:%Y-%m-%d}' if d.due else ''}{' **OVERDUE**' if d.is_overdue(now) else ''} | "
        f"{d.owner} | {_cell(d.rationale)} |"
        for d in decisions
    ]
    return "\n".join(
        [
            "## Decisions",
            "",
            "| when | comment | outcome | owner | rationale |",
            "| --- | --- | --- | --- | --- |",
            *rows,
        ]
    )


def _risks(risks: list[Risk], now: datetime) -> str:
    if not risks:
        return "## Risks and blockers\n\nNone raised."
    rows = [
        f"| {r.id} | {_cell(r.risk)} | {r.impact} | {r.owner or '**no owner**'} | "
        f"{r.due_at:%Y-%m-%d %H:%M}{' **OVERDUE**' if r.is_overdue(now) else ''} | "
        f"{_cell(r.fallback) if r.fallback else '**no fallback**'} | {r.status} |"
        for r in risks
    ]
    return "\n".join(
        [
            "## Risks and blockers",
            "",
            "| id | risk | customer impact | owner | due | fallback | status |",
            "| --- | --- | --- | --- | --- | --- | --- |",
            *rows,
        ]
    )


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
