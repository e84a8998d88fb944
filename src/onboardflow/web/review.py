"""The Review page of a journey version (docs/review.md): its status and the lifecycle actions by role;
comments anchored to a step or the whole journey, resolved by decisions; the decision log; the risk
register; the approval gate as a checklist, with the simulation of this exact version run in the background;
launch controls (share, step up, pause, resume, roll back, retire); the audit trail; the diff against the live
version; the Markdown packet. Every action goes through `governance.service` and `governance.launch`, as
the API's and the CLI's do; a refusal is shown on the page, every reason listed."""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import Form, Request
from starlette.responses import Response

from onboardflow.api.dependencies import ClockDep, EngineDep, SettingsDep, StoreDep
from onboardflow.api.problems import Problem
from onboardflow.core.gate import Evidence, approval_checklist
from onboardflow.core.review import COMMENT_KINDS, IMPACTS, OUTCOMES, RISK_STATUSES
from onboardflow.governance import launch as launching
from onboardflow.governance import service
from onboardflow.governance.evidence import SimulationPlan, simulate_version
from onboardflow.governance.packet import review_packet
from onboardflow.simulation.shop import START
from onboardflow.web.auth import Viewer, web_router
from onboardflow.web.journeys import diff_of, journey_rows
from onboardflow.web.rendering import go_to, page
from onboardflow.web.simulate import SimulationRuns, percent_done, runs_of
from onboardflow.web.workspace import journey_of, message_templates, review_in_force

router = web_router()
SHARES = (10, 50, 100)
Text = Annotated[str, Form()]


@dataclass
class ApprovalRun:
    """One click on Approve: the simulation of the version, then the gate; approved, or every reason not."""

    id: str
    journey_id: str
    version: int
    by: str
    customers: int
    days: int
    seed: int
    reached: datetime | None = None
    result: Any = None  # the approved review
    evidence: dict[str, Any] | None = None  # the simulation of the version
    problems: list[str] = field(default_factory=list)
    error: str | None = None
    done: threading.Event = field(default_factory=threading.Event)

    @property
    def progress(self) -> int:
        return percent_done(self)


def approvals_of(request: Request) -> SimulationRuns:
    return runs_of(request, "approvals")


@router.get("/review")
def review_index(request: Request, store: StoreDep, viewer: Viewer) -> Response:
    """Every journey with its versions' review status: what waits for whom."""
    rows = []
    for row in journey_rows(store):
        state = journey_of(store, row.id)
        rows.append((row, [review_in_force(store, state, v.version) for v in store.versions(row.id)]))
    return page(request, "reviews.html", {"rows": rows})


@router.get("/journeys/{journey_id}/review")
def review_page(request: Request, journey_id: str, store: StoreDep, clock: ClockDep, viewer: Viewer,
                version: int | None = None, run: str | None = None) -> Response:
    return _page(request, store, journey_id, version, viewer, clock.now(), run_id=run)


def _page(request: Request, store, journey_id: str, version: int | None, viewer, now: datetime, *,
          run_id: str | None = None, problems: list[str] | None = None, status: int = 200) -> Response:
    state = journey_of(store, journey_id)
    versions = store.versions(journey_id)
    number = version or versions[-1].version
    stored = store.version(journey_id, number)
    if stored is None:
        raise Problem(404, "Version not found", f"journey {journey_id!r} has versions 1 to {len(versions)}")
    review = review_in_force(store, state, number)
    owner = stored.definition.get("owner", "")
    comments = [c for c in store.comments(journey_id) if c.version == number]
    risks = sorted((r for r in store.risks(journey_id) if r.version == number),
                   key=lambda r: (r.rank, r.due_at))
    run = _run(request, run_id, journey_id, number)
    checklist = approval_checklist(review=review, owner=owner, approver=viewer.email, comments=comments,
                                   risks=risks, evidence=_evidence(review, run))
    live = store.version(journey_id, state.live_version) if state.live_version else None
    return page(request, "review.html", {
        "state": state, "stored": stored, "review": review, "owner": owner, "now": now,
        "versions": [(v, review_in_force(store, state, v.version)) for v in versions],
        "steps": [step["id"] for step in stored.definition.get("steps", [])],
        "comments": sorted(comments, key=lambda c: (not c.is_blocking, c.created_at)),
        "decisions": store.decisions(journey_id), "risks": risks, "checklist": checklist, "run": run,
        "is_owner": viewer.email.lower() == owner.lower(),
        "diff": diff_of(live, stored) if live and live.version != number else None, "live": live,
        "audit": list(reversed(store.audit_trail(journey_id))), "problems": problems or [],
        "kinds": COMMENT_KINDS, "outcomes": OUTCOMES, "impacts": IMPACTS, "risk_statuses": RISK_STATUSES,
        "shares": SHARES, "risk_due": now + timedelta(hours=48), "users": store.users(),
    }, status=status)


def _run(request: Request, run_id: str | None, journey_id: str, version: int) -> ApprovalRun | None:
    runs = [r for r in approvals_of(request).runs.values()
            if (r.journey_id, r.version) == (journey_id, version)]
    chosen = [r for r in runs if r.id == run_id] if run_id else runs[-1:]
    return chosen[0] if chosen else None


def _evidence(review, run: ApprovalRun | None) -> Evidence | None:
    """What the gate's last condition rests on: the approval's own evidence, else this page's latest run."""
    found = (review.approval or {}).get("simulation") or (run.evidence if run else None)
    if not found:
        return None
    return Evidence(found["digest"], found["passed"], len(found["acceptance"]), tuple(found["failing"]))


def _act(request: Request, store, clock, viewer, journey_id: str, version: int | None, action) -> Response:
    """Do `action`; then back to the page, or the page again with every reason it was refused."""
    try:
        action()
    except service.ReviewError as refused:
        return _page(request, store, journey_id, version, viewer, clock.now(), problems=refused.problems,
                     status=refused.status)
    suffix = f"?version={version}" if version else ""
    return go_to(request, f"/journeys/{journey_id}/review{suffix}")


@router.post("/journeys/{journey_id}/review/{version}/submit")
def submit(request: Request, journey_id: str, version: int, store: StoreDep, clock: ClockDep,
           viewer: Viewer) -> Response:
    return _act(request, store, clock, viewer, journey_id, version, lambda: service.submit(
        store=store, journey_id=journey_id, version=version, actor=viewer, now=clock.now()))


@router.post("/journeys/{journey_id}/review/{version}/withdraw")
def withdraw(request: Request, journey_id: str, version: int, store: StoreDep, clock: ClockDep,
             viewer: Viewer) -> Response:
    return _act(request, store, clock, viewer, journey_id, version, lambda: service.withdraw(
        store=store, journey_id=journey_id, version=version, actor=viewer, now=clock.now()))


@router.post("/journeys/{journey_id}/review/{version}/comments")
def comment(request: Request, journey_id: str, version: int, store: StoreDep, clock: ClockDep,
            viewer: Viewer, kind: Text, body: Text, step: Text = "") -> Response:
    """A note, question or change request on one step (`step`) or the whole journey (empty)."""
    return _act(request, store, clock, viewer, journey_id, version, lambda: service.add_comment(
        store=store, journey_id=journey_id, version=version, kind=kind, body=body, step_id=step or None,
        actor=viewer, now=clock.now()))


@router.post("/journeys/{journey_id}/review/{version}/decisions")
def decide(request: Request, journey_id: str, version: int, store: StoreDep, clock: ClockDep,
           viewer: Viewer, comment_id: Text, outcome: Text, rationale: Text = "", owner: Text = "",
           due: Text = "") -> Response:
    """Resolve a comment with a decision: its owner, an outcome (deferred: with a due date), why."""
    def act() -> None:
        service.resolve(store=store, journey_id=journey_id, comment_id=comment_id, outcome=outcome,
                        rationale=rationale, owner=owner or None, due=_date(due, "the due date"),
                        actor=viewer, now=clock.now())
    return _act(request, store, clock, viewer, journey_id, version, act)


@router.post("/journeys/{journey_id}/review/{version}/risks")
def raise_risk(request: Request, journey_id: str, version: int, store: StoreDep, clock: ClockDep,
               viewer: Viewer, risk: Text, impact: Text, owner: Text = "", fallback: Text = "",
               due: Text = "") -> Response:
    """A risk or blocker: impact, one owner, due date (48 hours unless given), the fallback plan."""
    def act() -> None:
        service.raise_risk(store=store, journey_id=journey_id, version=version, risk=risk, impact=impact,
                           owner=owner or None, fallback=fallback or None, due_at=_date(due, "the due date"),
                           actor=viewer, now=clock.now())
    return _act(request, store, clock, viewer, journey_id, version, act)


@router.post("/journeys/{journey_id}/review/{version}/risks/{risk_id}")
def update_risk(request: Request, journey_id: str, version: int, risk_id: str, store: StoreDep,
                clock: ClockDep, viewer: Viewer, status: Text = "", owner: Text = "",
                fallback: Text = "") -> Response:
    return _act(request, store, clock, viewer, journey_id, version, lambda: service.update_risk(
        store=store, journey_id=journey_id, risk_id=risk_id, actor=viewer, now=clock.now(),
        status=status or None, owner=owner or None, fallback=fallback or None))


def _date(text: str, what: str) -> datetime | None:
    """A date or time from a form (`2026-04-01` or `2026-04-01T09:00`), in UTC; None when empty."""
    if not text.strip():
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise service.Invalid(f"{what} {text!r} is not a date: write it as 2026-04-01") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=START.tzinfo)


@router.post("/journeys/{journey_id}/review/{version}/approve")
def approve(request: Request, journey_id: str, version: int, store: StoreDep, settings: SettingsDep,
            clock: ClockDep, viewer: Viewer, customers: Annotated[int, Form(ge=10, le=5000)] = 300,
            days: Annotated[int, Form(ge=1, le=120)] = 30, seed: Annotated[int, Form()] = 1) -> Response:
    """Run the simulation of this exact version in the background, then the gate; the page follows it."""
    try:
        stored = service.stored_version(store, journey_id, version)
    except service.NotFound as missing:
        raise Problem(404, "Version not found", str(missing)) from None
    templates = message_templates(settings).templates
    run = ApprovalRun(secrets.token_hex(6), journey_id, version, viewer.email, customers, days, seed)

    def work() -> Any:
        def reached(moment: datetime) -> None:
            run.reached = moment

        plan = SimulationPlan(customers, days, seed)
        run.evidence = simulate_version(stored, templates=templates, plan=plan, on_progress=reached)
        try:
            return service.approve(store=store, journey_id=journey_id, version=version, actor=viewer,
                                   evidence=run.evidence, now=clock.now())
        except service.ReviewError as refused:
            run.problems = refused.problems
            return None

    approvals_of(request).start(run, work)
    return go_to(request, f"/journeys/{journey_id}/review?version={version}&run={run.id}")


@router.get("/journeys/{journey_id}/review/{version}/approvals/{run_id}")
def approval_status(request: Request, journey_id: str, version: int, run_id: str, viewer: Viewer) -> Response:
    """The approval's progress while its simulation runs (htmx polls it); the page again once done."""
    run = approvals_of(request).get(run_id)
    if run.done.is_set():
        return Response(status_code=200, headers={"HX-Refresh": "true"})
    return page(request, "_approval_progress.html", {"run": run})


@router.post("/journeys/{journey_id}/review/{version}/launch")
def launch(request: Request, journey_id: str, version: int, engine: EngineDep, clock: ClockDep,
           viewer: Viewer, share: Text = "100", step_up_to: Text = "", step_up_when: Text = "") -> Response:
    """Make the approved version live for a share of triggered customers, with an optional step-up rule."""
    rule = {"to": step_up_to, "when": step_up_when} if step_up_to or step_up_when else None
    return _act(request, engine.store, clock, viewer, journey_id, version, lambda: launching.launch(
        engine=engine, journey_id=journey_id, version=version, actor=viewer, percent=share, step_up=rule))


@router.post("/journeys/{journey_id}/review/{version}/step-up")
def step_up(request: Request, journey_id: str, version: int, engine: EngineDep, clock: ClockDep,
            viewer: Viewer, share: Text) -> Response:
    return _act(request, engine.store, clock, viewer, journey_id, version, lambda: launching.step_up(
        engine=engine, journey_id=journey_id, actor=viewer, percent=share))


@router.post("/journeys/{journey_id}/review/{version}/{action}")
def hold_or_roll(request: Request, journey_id: str, version: int, action: str, engine: EngineDep,
                 clock: ClockDep, viewer: Viewer) -> Response:
    """Pause, resume, roll back (to the version live before) or retire (this version)."""
    actions = {
        "pause": lambda: launching.pause(engine=engine, journey_id=journey_id, actor=viewer),
        "resume": lambda: launching.resume(engine=engine, journey_id=journey_id, actor=viewer),
        "rollback": lambda: launching.rollback(engine=engine, journey_id=journey_id, actor=viewer),
        "retire": lambda: launching.retire(engine=engine, journey_id=journey_id, version=version,
                                           actor=viewer),
    }
    if action not in actions:
        raise Problem(404, "No such action", f"no action {action!r}: one of {', '.join(actions)}")
    return _act(request, engine.store, clock, viewer, journey_id, version, actions[action])


@router.get("/journeys/{journey_id}/review/{version}/packet.md")
def packet(request: Request, journey_id: str, version: int, store: StoreDep, clock: ClockDep,
           viewer: Viewer) -> Response:
    """The review packet, in Markdown, to download (the same as `onboardflow review packet`)."""
    journey_of(store, journey_id)
    text = review_packet(store=store, journey_id=journey_id, version=version, now=clock.now())
    headers = {"Content-Disposition": f'attachment; filename="{journey_id}-v{version}-packet.md"'}
    return Response(text, media_type="text/markdown; charset=utf-8", headers=headers)
