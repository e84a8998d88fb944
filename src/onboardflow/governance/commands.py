"""`onboardflow review ...`: a journey version from draft to live, acting as a user (`--as EMAIL` or
ONBOARDFLOW_USER): submit, comment, resolve, risk, approve (with a simulation of the exact version),
launch, step-up, pause, resume, rollback, retire; status, log and the Markdown packet."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn
from rich.table import Table

from onboardflow.engine.clock import SystemClock
from onboardflow.governance import launch as launching
from onboardflow.governance import service
from onboardflow.governance.people import UnknownUser, find_user
from onboardflow.governance.people_commands import AsUser, console, errors, open_store

review_app = typer.Typer(
    help="Review and approval: every launch decided by the journey's owner, on evidence.",
    no_args_is_help=True,
)
JourneyId = Annotated[str, typer.Argument(help="The journey's id")]
Version = Annotated[int, typer.Argument(help="The version's number (`review status` lists them)")]


def _run(action, as_user: str | None, *, engine: bool = False):
    """Open the store (an engine on it when `engine`), find the acting user, run `action(context, user)`;
    a refusal prints every reason and exits 1 (403: 3, 404: 4)."""
    from onboardflow.engine.engine import Engine

    store = open_store()
    try:
        user = find_user(store, as_user)
        context = Engine(store, clock=SystemClock()) if engine else store
        return action(context, user)
    except UnknownUser as error:
        errors.print(f"error: {error}", highlight=False, markup=False)
        raise typer.Exit(1) from None
    except service.ReviewError as refused:
        for problem in refused.problems:
            errors.print(f"✗ {problem}", highlight=False, markup=False)
        raise typer.Exit({403: 3, 404: 4}.get(refused.status, 1)) from None
    finally:
        store.close()


def _now() -> datetime:
    return SystemClock().now()


def _said(text: str) -> None:
    console.print(text, highlight=False, markup=False)


def _date(text: str | None, option: str) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        errors.print(
            f"error: {option} {text!r} is not a date: write 2026-04-01 or 2026-04-01T09:00", markup=False
        )
        raise typer.Exit(2) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@review_app.command("submit")
def submit(journey_id: JourneyId, version: Version, as_user: AsUser = None) -> None:
    """Send a draft for review."""
    done = _run(
        lambda store, user: service.submit(
            store=store, journey_id=journey_id, version=version, actor=user, now=_now()
        ),
        as_user,
    )
    _said(f"{done.subject} is in review")


@review_app.command("comment")
def comment(
    journey_id: JourneyId,
    version: Version,
    text: Annotated[str, typer.Argument(help="What you have to say")],
    kind: Annotated[
        str, typer.Option(help="note, question or change_request (the last two block approval)")
    ] = "note",
    step: Annotated[
        str | None, typer.Option(help="The step it is about (default: the whole journey)")
    ] = None,
    as_user: AsUser = None,
) -> None:
    """Comment on a version, on one step or the whole journey."""
    made = _run(
        lambda store, user: service.add_comment(
            store=store,
            journey_id=journey_id,
            version=version,
            kind=kind,
            body=text,
            actor=user,
            now=_now(),
            step_id=step,
        ),
        as_user,
    )
    _said(f"comment {made.id} ({made.kind}) on {journey_id} v{version}")


@review_app.command("resolve")
def resolve(
    journey_id: JourneyId,
    comment_id: Annotated[str, typer.Argument(help="The comment's id")],
    outcome: Annotated[str, typer.Option(help="accepted, rejected or deferred")],
    rationale: Annotated[str, typer.Option(help="Why")],
    owner: Annotated[str | None, typer.Option(help="Who owns the decision (default: you)")] = None,
    due: Annotated[str | None, typer.Option(help="For a deferral: when it is due (2026-04-01)")] = None,
    as_user: AsUser = None,
) -> None:
    """Settle a comment with a decision: one owner, an outcome, a rationale."""
    made = _run(
        lambda store, user: service.resolve(
            store=store,
            journey_id=journey_id,
            comment_id=comment_id,
            outcome=outcome,
            rationale=rationale,
            actor=user,
            now=_now(),
            owner=owner,
            due=_date(due, "--due"),
        ),
        as_user,
    )
    _said(f"decision {made.id}: {made.outcome} (owner {made.owner}); comment {comment_id} resolved")


@review_app.command("risk")
def risk(
    journey_id: JourneyId,
    version: Version,
    text: Annotated[str | None, typer.Argument(help="The risk (leave out with --update)")] = None,
    impact: Annotated[str | None, typer.Option(help="Customer impact: critical, high, medium or low")] = None,
    owner: Annotated[str | None, typer.Option(help="Who owns it (a user's email)")] = None,
    fallback: Annotated[str | None, typer.Option(help="What happens if it comes true")] = None,
    due: Annotated[str | None, typer.Option(help="When it is due (default: 48 hours from now)")] = None,
    update: Annotated[str | None, typer.Option(help="Change this risk instead of raising one")] = None,
    status: Annotated[
        str | None, typer.Option(help="With --update: open, mitigated, accepted or closed")
    ] = None,
    as_user: AsUser = None,
) -> None:
    """Raise a risk or blocker in the version's register, or change one (--update RISK_ID)."""
    if update:
        done = _run(
            lambda store, user: service.update_risk(
                store=store,
                journey_id=journey_id,
                risk_id=update,
                actor=user,
                now=_now(),
                impact=impact,
                owner=owner,
                fallback=fallback,
                status=status,
                due_at=_date(due, "--due"),
            ),
            as_user,
        )
        _said(f"risk {done.id} updated: {done.status}, owner {done.owner or 'none'}")
        return
    done = _run(
        lambda store, user: service.raise_risk(
            store=store,
            journey_id=journey_id,
            version=version,
            risk=text or "",
            impact=impact or "medium",
            actor=user,
            now=_now(),
            owner=owner,
            fallback=fallback,
            due_at=_date(due, "--due"),
        ),
        as_user,
    )
    _said(f"risk {done.id} ({done.impact}) due {done.due_at:%Y-%m-%d %H:%M} UTC")


@review_app.command("approve")
def approve(
    journey_id: JourneyId,
    version: Version,
    customers: Annotated[int, typer.Option(min=1, max=100_000, help="Simulated customers")] = 300,
    days: Annotated[int, typer.Option(min=1, max=365, help="Days the simulation lasts")] = 30,
    seed: Annotated[int, typer.Option(help="The simulation's seed")] = 1,
    templates: Annotated[
        Path | None, typer.Option(help="Templates folder (default: journeys/templates, else the examples')")
    ] = None,
    confidence: Annotated[
        int | None, typer.Option(min=1, max=5, help="Your confidence in the launch, 1 (low) to 5 (high)")
    ] = None,
    as_user: AsUser = None,
) -> None:
    """Approve a version in review, as its owner: a simulation of this exact version runs first; a refusal
    lists every condition missing."""
    from onboardflow.governance.evidence import SimulationPlan, approval_templates, simulate_version

    def act(store, user):
        stored = service.stored_version(store, journey_id, version)
        with Progress(TextColumn("{task.description}"), BarColumn(), console=errors) as progress:
            task = progress.add_task(
                f"simulating {journey_id} v{version}: {customers} customers, {days} days", total=days * 86400
            )
            start = None

            def report(moment):
                nonlocal start
                start = start or moment
                progress.update(task, completed=(moment - start).total_seconds())

            evidence = simulate_version(
                stored,
                templates=approval_templates(templates),
                plan=SimulationPlan(customers, days, seed),
                on_progress=report,
            )
        return service.approve(
            store=store, journey_id=journey_id, version=version, actor=user, evidence=evidence, now=_now(),
            confidence=confidence,
        )

    done = _run(act, as_user)
    evidence = done.approval["simulation"]
    _said(
        f"{done.subject} approved by {done.approval['by']}: {len(evidence['acceptance'])} acceptance "
        f"criteria pass (seed {evidence['seed']}, {evidence['customers']} customers)"
    )


@review_app.command("launch")
def launch(
    journey_id: JourneyId,
    version: Version,
    share: Annotated[str, typer.Option(help="The share of triggered customers let in, e.g. 10%")] = "100%",
    step_up_to: Annotated[str | None, typer.Option(help="Step up to this share automatically ...")] = None,
    when: Annotated[
        str | None, typer.Option(help="... when this holds, e.g. 'goal_rate >= 0.1 and entrants >= 200'")
    ] = None,
    as_user: AsUser = None,
) -> None:
    """Make an approved version live, for a share of triggered customers."""
    rule = {"to": step_up_to, "when": when} if step_up_to or when else None
    done, publication = _run(
        lambda engine, user: launching.launch(
            engine=engine, journey_id=journey_id, version=version, actor=user, percent=share, step_up=rule
        ),
        as_user,
        engine=True,
    )
    moved = f", {publication.moved} customer(s) moved from v{done.previous_live}" if publication.moved else ""
    _said(f"live: {done.subject} for {done.rollout['percent']:g}% of triggered customers{moved}")


@review_app.command("step-up")
def step_up(
    journey_id: JourneyId,
    share: Annotated[str, typer.Argument(help="The new share, e.g. 50%")],
    as_user: AsUser = None,
) -> None:
    """Let a larger share of triggered customers into the live version."""
    done = _run(
        lambda engine, user: launching.step_up(
            engine=engine, journey_id=journey_id, actor=user, percent=share
        ),
        as_user,
        engine=True,
    )
    _said(f"{done.subject} now lets in {done.rollout['percent']:g}% of triggered customers")


def _lifecycle(name: str, action, help_text: str) -> None:
    def command(journey_id: JourneyId, as_user: AsUser = None) -> None:
        done = _run(
            lambda engine, user: action(engine=engine, journey_id=journey_id, actor=user),
            as_user,
            engine=True,
        )
        _said(f"{done.subject} is {done.status}")

    command.__doc__ = help_text
    review_app.command(name)(command)


_lifecycle("pause", launching.pause, "Pause the live version: nobody new enters, nobody in it moves.")
_lifecycle("resume", launching.resume, "Resume the paused version: what was held is applied now.")
_lifecycle("rollback", launching.rollback, "Make the version live before the current one live again.")


@review_app.command("retire")
def retire(journey_id: JourneyId, version: Version, as_user: AsUser = None) -> None:
    """Retire a version; the live one lets nobody new in, and customers in it finish."""
    done = _run(
        lambda engine, user: launching.retire(
            engine=engine, journey_id=journey_id, version=version, actor=user
        ),
        as_user,
        engine=True,
    )
    _said(f"{done.subject} is retired")


@review_app.command("status")
def status(journey_id: JourneyId, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Every version of the journey and its status, open comments and risks (overdue ones flagged)."""
    store = open_store()
    try:
        reviews = {r.version: r for r in store.reviews(journey_id)}
        versions = store.versions(journey_id)
        comments, risks = store.comments(journey_id), store.risks(journey_id)
    finally:
        store.close()
    now = _now()
    rows = [service.review_of_row(v, reviews.get(v.version)) for v in versions]
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "versions": rows,
                    "open_comments": [c.id for c in comments if c.is_open],
                    "open_risks": [r.id for r in risks if r.is_open],
                }
            )
        )
        return
    table = Table(title=f"{journey_id}: versions")
    for column in ("version", "status", "author", "approved by", "share"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            str(row["version"]),
            row["status"],
            row["author"],
            row["approved_by"] or "",
            f"{row['percent']:g}%" if row["percent"] is not None else "",
        )
    console.print(table)
    for c in comments:
        if c.is_open:
            _said(
                f"{'✗' if c.is_blocking else '·'} {c.id} v{c.version} {c.kind} on "
                f"{c.step_id or 'the journey'} by {c.author}: {c.body}"
            )
    for r in risks:
        if r.is_open:
            _said(
                f"! {r.id} v{r.version} [{r.impact}] {r.risk}; owner {r.owner or 'none'}, fallback "
                f"{r.fallback or 'none'}, due {r.due_at:%Y-%m-%d %H:%M}{' OVERDUE' * r.is_overdue(now)}"
            )


@review_app.command("log")
def log(
    journey_id: JourneyId,
    diffs: Annotated[bool, typer.Option("--diffs", help="Show the diffs")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """The audit trail of the journey: who did what, when, to which version."""
    store = open_store()
    try:
        entries = store.audit_trail(journey_id)
    finally:
        store.close()
    for entry in entries:
        if as_json:
            typer.echo(
                json.dumps(
                    {
                        "seq": entry.seq,
                        "at": entry.at.isoformat(),
                        "actor": entry.actor,
                        "action": entry.action,
                        "version": entry.version,
                        "detail": entry.detail,
                        "diff": entry.diff,
                    },
                    default=str,
                )
            )
            continue
        _said(
            f"{entry.seq:>4} {entry.at:%Y-%m-%d %H:%M:%S} {entry.actor} {entry.action} "
            f"v{entry.version} {json.dumps(entry.detail, default=str)}"
        )
        if diffs and entry.diff:
            console.print(entry.diff, highlight=False, markup=False)


@review_app.command("packet")
def packet(
    journey_id: JourneyId,
    version: Annotated[int | None, typer.Option(help="The version (default: the newest)")] = None,
    out: Annotated[Path | None, typer.Option(help="Write the Markdown here (default: stdout)")] = None,
) -> None:
    """The review packet in Markdown: diff against the live version, simulation and acceptance, open
    comments, decisions, risks."""
    from onboardflow.governance.packet import review_packet

    store = open_store()
    try:
        text = review_packet(store=store, journey_id=journey_id, version=version, now=_now())
    except service.ReviewError as refused:
        errors.print(f"error: {refused}", highlight=False, markup=False)
        raise typer.Exit(4) from None
    finally:
        store.close()
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        _said(f"wrote {out}")
