"""Review and approval through the API (docs/review.md), acting as the user the API key belongs to:
submit, comment, decide, raise and update risks, approve (after a simulation of the exact version),
launch, step up, roll back, retire; read the review, the audit trail and the packet. Reading needs
`read`, the rest `write`. A refusal is a problem+json whose `problems` lists every missing condition."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse

from onboardflow.api.dependencies import (
    ClockDep,
    EngineDep,
    StoreDep,
    keyed_router,
    require_read,
    require_write,
)
from onboardflow.api.params import JourneyIdPath, VersionPath
from onboardflow.api.problems import Problem, problem_responses
from onboardflow.api.review_schemas import (
    ApproveRequest,
    AuditList,
    AuditRead,
    CommentCreate,
    CommentRead,
    DecisionCreate,
    DecisionRead,
    JourneyReviewRead,
    LaunchRequest,
    ReviewRead,
    RiskCreate,
    RiskRead,
    RiskUpdate,
    StepUpRequest,
)
from onboardflow.governance import launch as launching
from onboardflow.governance import service
from onboardflow.governance.evidence import SimulationPlan, approval_templates, simulate_version
from onboardflow.governance.people import UnknownUser, find_user
from onboardflow.ports import ApiKey, Store, User

router = keyed_router("/v1/journeys", "review")
REFUSALS = problem_responses(
    {
        403: "The key's user may not do this (or the key acts as no user)",
        404: "No such journey, version, comment or risk",
        409: "Refused: `problems` lists every condition missing",
        422: "The request is wrong: `problems` says what to fix",
    }
)
WriteKey = Annotated[ApiKey, Depends(require_write)]


def refused(error: service.ReviewError) -> Problem:
    titles = {403: "Not allowed", 404: "Not found", 409: "Refused", 422: "Invalid request"}
    return Problem(error.status, titles[error.status], "; ".join(error.problems), problems=error.problems)


def acting_user(store: Store, key: ApiKey) -> User:
    if key.user is None:
        raise Problem(
            403,
            "No user",
            f"API key {key.id} ({key.name}) acts as no user: reviews need one, "
            "create a key with `onboardflow apikey create --user EMAIL`",
            problems=[],
        )
    try:
        return find_user(store, key.user)
    except UnknownUser as error:
        raise Problem(403, "No user", str(error), problems=[str(error)]) from None


def _act(action, *args, **kwargs):
    try:
        return action(*args, **kwargs)
    except service.ReviewError as error:
        raise refused(error) from None


@router.get("/{journey_id}/review", dependencies=[Depends(require_read)], responses=REFUSALS)
def get_review(journey_id: JourneyIdPath, store: StoreDep, clock: ClockDep) -> JourneyReviewRead:
    """Every version's review, the comments, the decision log and the risk register (overdue flagged)."""
    if not store.versions(journey_id):
        raise Problem(
            404, "Journey not found", f"no journey {journey_id!r}: PUT /v1/journeys/{{id}} makes a draft"
        )
    now = clock.now()
    return JourneyReviewRead(
        journey_id=journey_id,
        versions=[
            ReviewRead.of(service.review_of(store, journey_id, v.version)) for v in store.versions(journey_id)
        ],
        comments=[CommentRead.of(c) for c in store.comments(journey_id)],
        decisions=[DecisionRead.of(d) for d in store.decisions(journey_id)],
        risks=[RiskRead.of(r, now) for r in store.risks(journey_id)],
    )


@router.post("/{journey_id}/versions/{version}/submit", responses=REFUSALS)
def submit(
    journey_id: JourneyIdPath, version: VersionPath, key: WriteKey, store: StoreDep, clock: ClockDep
) -> ReviewRead:
    """Send a draft for review (an author)."""
    return ReviewRead.of(
        _act(
            service.submit,
            store=store,
            journey_id=journey_id,
            version=version,
            actor=acting_user(store, key),
            now=clock.now(),
        )
    )


@router.post("/{journey_id}/versions/{version}/comments", status_code=201, responses=REFUSALS)
def comment(
    journey_id: JourneyIdPath,
    version: VersionPath,
    body: CommentCreate,
    key: WriteKey,
    store: StoreDep,
    clock: ClockDep,
) -> CommentRead:
    """A note, question or change request, on a step or the whole journey; the last two block approval."""
    return CommentRead.of(
        _act(
            service.add_comment,
            store=store,
            journey_id=journey_id,
            version=version,
            kind=body.kind,
            body=body.body,
            step_id=body.step_id,
            actor=acting_user(store, key),
            now=clock.now(),
        )
    )


@router.post("/{journey_id}/decisions", status_code=201, responses=REFUSALS)
def decide(
    journey_id: JourneyIdPath, body: DecisionCreate, key: WriteKey, store: StoreDep, clock: ClockDep
) -> DecisionRead:
    """Settle a comment: one owner, an outcome (accepted, rejected, deferred with a due date), why."""
    return DecisionRead.of(
        _act(
            service.resolve,
            store=store,
            journey_id=journey_id,
            comment_id=body.comment_id,
            outcome=body.outcome,
            rationale=body.rationale,
            owner=body.owner,
            due=body.due,
            actor=acting_user(store, key),
            now=clock.now(),
        )
    )


@router.post("/{journey_id}/versions/{version}/risks", status_code=201, responses=REFUSALS)
def raise_risk(
    journey_id: JourneyIdPath,
    version: VersionPath,
    body: RiskCreate,
    key: WriteKey,
    store: StoreDep,
    clock: ClockDep,
) -> RiskRead:
    """A risk or blocker in the version's register; due 48 hours after it is raised unless told."""
    now = clock.now()
    return RiskRead.of(
        _act(
            service.raise_risk,
            store=store,
            journey_id=journey_id,
            version=version,
            risk=body.risk,
            impact=body.impact,
            owner=body.owner,
            fallback=body.fallback,
            due_at=body.due_at,
            actor=acting_user(store, key),
            now=now,
        ),
        now,
    )


@router.patch("/{journey_id}/risks/{risk_id}", responses=REFUSALS)
def update_risk(
    journey_id: JourneyIdPath, risk_id: str, body: RiskUpdate, key: WriteKey, store: StoreDep, clock: ClockDep
) -> RiskRead:
    """Change a risk's owner, fallback, due date, impact or status."""
    now = clock.now()
    return RiskRead.of(
        _act(
            service.update_risk,
            store=store,
            journey_id=journey_id,
            risk_id=risk_id,
            actor=acting_user(store, key),
            now=now,
            **body.model_dump(),
        ),
        now,
    )


@router.post("/{journey_id}/versions/{version}/approve", responses=REFUSALS)
async def approve(
    journey_id: JourneyIdPath,
    version: VersionPath,
    key: WriteKey,
    store: StoreDep,
    clock: ClockDep,
    body: ApproveRequest | None = None,
) -> ReviewRead:
    """Approve as the journey's named owner: a simulation of this exact version runs first (seed, customers
    and days as given), and the approval keeps it. 409 lists every condition missing."""
    plan = body or ApproveRequest()
    user = acting_user(store, key)

    def run() -> ReviewRead:
        stored = _act(service.stored_version, store, journey_id, version)
        evidence = simulate_version(
            stored,
            templates=approval_templates(None),
            plan=SimulationPlan(plan.customers, plan.days, plan.seed),
        )
        return ReviewRead.of(
            _act(
                service.approve,
                store=store,
                journey_id=journey_id,
                version=version,
                actor=user,
                evidence=evidence,
                now=clock.now(),
                confidence=plan.confidence,
            )
        )

    return await run_in_threadpool(run)


@router.post("/{journey_id}/versions/{version}/launch", responses=REFUSALS)
def launch(
    journey_id: JourneyIdPath,
    version: VersionPath,
    key: WriteKey,
    engine: EngineDep,
    body: LaunchRequest | None = None,
) -> ReviewRead:
    """Make an approved version live for a share of triggered customers, with an optional step-up rule."""
    plan = body or LaunchRequest()
    rule = plan.step_up.model_dump() if plan.step_up else None
    launched, _ = _act(
        launching.launch,
        engine=engine,
        journey_id=journey_id,
        version=version,
        actor=acting_user(engine.store, key),
        percent=plan.share,
        step_up=rule,
    )
    return ReviewRead.of(launched)


@router.post("/{journey_id}/step-up", responses=REFUSALS)
def step_up(journey_id: JourneyIdPath, body: StepUpRequest, key: WriteKey, engine: EngineDep) -> ReviewRead:
    """Let a larger share of triggered customers into the live version."""
    return ReviewRead.of(
        _act(
            launching.step_up,
            engine=engine,
            journey_id=journey_id,
            percent=body.share,
            actor=acting_user(engine.store, key),
        )
    )


@router.post("/{journey_id}/rollback", responses=REFUSALS)
def rollback(journey_id: JourneyIdPath, key: WriteKey, engine: EngineDep) -> ReviewRead:
    """Make the version live before the current one live again; customers mid-journey stay where they are."""
    return ReviewRead.of(
        _act(launching.rollback, engine=engine, journey_id=journey_id, actor=acting_user(engine.store, key))
    )


@router.post("/{journey_id}/versions/{version}/retire", responses=REFUSALS)
def retire(journey_id: JourneyIdPath, version: VersionPath, key: WriteKey, engine: EngineDep) -> ReviewRead:
    """Retire a version; retiring the live one lets nobody new in."""
    return ReviewRead.of(
        _act(
            launching.retire,
            engine=engine,
            journey_id=journey_id,
            version=version,
            actor=acting_user(engine.store, key),
        )
    )


@router.get("/{journey_id}/audit", dependencies=[Depends(require_read)])
def audit(journey_id: JourneyIdPath, store: StoreDep) -> AuditList:
    """The journey's audit trail, in the order written. There is no route that changes it."""
    return AuditList(items=[AuditRead.of(entry) for entry in store.audit_trail(journey_id)])


@router.get(
    "/{journey_id}/versions/{version}/packet",
    dependencies=[Depends(require_read)],
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/markdown": {}}}, **REFUSALS},
)
def packet(journey_id: JourneyIdPath, version: VersionPath, store: StoreDep, clock: ClockDep) -> Response:
    """The review packet, in Markdown."""
    from onboardflow.governance.packet import review_packet

    text = _act(review_packet, store=store, journey_id=journey_id, version=version, now=clock.now())
    return Response(text, media_type="text/markdown; charset=utf-8")
