"""Launch and after: an approved version goes live for a share of triggered customers, steps up (by its
owner, or by a rule the worker checks), pauses, resumes, rolls back to the version live before, retires.
Only the journey's named owner (or an admin) takes these steps; every one is in the audit trail."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from onboardflow.core.gate import check_step_up, read_percent, step_up_holds
from onboardflow.core.review import AuditEntry, ReviewChanges, VersionReview
from onboardflow.core.validation import JourneyInvalid
from onboardflow.engine.engine import Engine
from onboardflow.engine.live import Publication
from onboardflow.governance.service import (
    Forbidden,
    ReviewError,
    review_of,
    stored_version,
    transition,
    version_diff,
)
from onboardflow.ports import Store, User

RULE_ACTOR = "step-up rule"  # who the trail names when the worker steps a roll-out up


def require_owner(store: Store, journey_id: str, version: int, actor: User, action: str) -> None:
    owner = stored_version(store, journey_id, version).definition["owner"]
    if actor.email.lower() != owner.lower() and "admin" not in actor.roles:
        raise Forbidden(
            f"only the journey's named owner ({owner}) or an admin may {action} it, not {actor.email}"
        )


def live_review(store: Store, journey_id: str) -> VersionReview:
    """The review of the version live (or paused) now; ReviewError when none is."""
    found = [r for r in store.reviews(journey_id) if r.status in ("live", "paused")]
    if not found:
        raise ReviewError(f"journey {journey_id!r} has no live version: launch an approved one first")
    return found[-1]


def launch(
    *,
    engine: Engine,
    journey_id: str,
    version: int,
    actor: User,
    percent: Any = 100,
    step_up: dict[str, Any] | None = None,
) -> tuple[VersionReview, Publication]:
    """Make an approved version live: only one whose approval is bound to its content hash. The version
    live before is retired (kept for a roll-back). The review, and the publication (customers moved)."""
    store, now = engine.store, engine.clock.now()
    require_owner(store, journey_id, version, actor, "launch")
    review = review_of(store, journey_id, version)
    share = _percent(percent)
    rollout = {"percent": share, "step_up": _rule(step_up, share)}
    if review.status == "approved" and (review.approval or {}).get("digest") != review.digest:
        raise ReviewError(f"{review.subject}'s approval was for other content: submit it for review again")
    before = _current(store, journey_id)
    if review.status != "approved":
        transition(store=store, review=review, action="launch", actor=actor, now=now)  # refused: says why
    from onboardflow.playbooks.gate import launch_problems

    if problems := launch_problems(store, journey_id, version, now=now):
        raise ReviewError(problems)
    try:
        publication = engine.launch(journey_id, version, percent=share)
    except JourneyInvalid as invalid:  # a migrate block the stored versions refute
        raise ReviewError([str(problem) for problem in invalid.problems]) from None
    _retire_before(store, before, actor, now, replaced_by=version)
    diff = version_diff(store.version(journey_id, before.version), publication.stored) if before else None
    launched = transition(
        store=store,
        review=review,
        action="launch",
        actor=actor,
        now=now,
        detail={
            "percent": share,
            "step_up": rollout["step_up"],
            "moved": publication.moved,
            "previous_live": before.version if before else None,
        },
        rollout=rollout,
        previous_live=before.version if before else None,
    )
    if diff:
        store.record_review(
            ReviewChanges(
                audit=[
                    AuditEntry(
                        now, actor.email, "diff", journey_id, version, {"against": before.version}, diff=diff
                    )
                ]
            )
        )
    return launched, publication


def _current(store: Store, journey_id: str) -> VersionReview | None:
    """The review of the live version; one made live by the engine's own path (no review) reads as live."""
    try:
        return live_review(store, journey_id)
    except ReviewError:
        state = next((s for s in store.journeys() if s.journey_id == journey_id), None)
        if state is None or store.review(journey_id, state.live_version) is not None:
            return None
        return replace(review_of(store, journey_id, state.live_version), status="live")


def _retire_before(
    store: Store, before: VersionReview | None, actor: User, now: datetime, *, replaced_by: int
) -> None:
    if before is not None and before.version != replaced_by:
        transition(
            store=store,
            review=before,
            action="retire",
            actor=actor,
            now=now,
            detail={"replaced_by": replaced_by},
        )


def _percent(value: Any) -> float:
    try:
        return read_percent(value)
    except ValueError as error:
        raise ReviewError(str(error)) from None


def _rule(rule: dict[str, Any] | None, current: float) -> dict[str, Any] | None:
    if not rule:
        return None
    try:
        return check_step_up(rule, current)
    except ValueError as error:
        raise ReviewError(str(error)) from None


def step_up(
    *, engine: Engine, journey_id: str, actor: User, percent: Any, step_up_rule: dict[str, Any] | None = None
) -> VersionReview:
    """Let a larger share of triggered customers in (never a smaller one: pause or roll back instead)."""
    store = engine.store
    review = live_review(store, journey_id)
    require_owner(store, journey_id, review.version, actor, "step up")
    current = (review.rollout or {}).get("percent", 100.0)
    share = _percent(percent)
    if share <= current:
        raise ReviewError(f"{review.subject} lets {current:g}% in already: a step up goes above it")
    return _set_share(engine, review, share, actor.email, rule=_rule(step_up_rule, share))


def _set_share(
    engine: Engine,
    review: VersionReview,
    share: float,
    actor: str,
    *,
    rule: dict[str, Any] | None,
    why: dict[str, Any] | None = None,
) -> VersionReview:
    now = engine.clock.now()
    engine.set_rollout(review.journey_id, share)
    before = (review.rollout or {}).get("percent", 100.0)
    stepped = replace(review, rollout={"percent": share, "step_up": rule}, updated_at=now)
    entry = AuditEntry(
        now,
        actor,
        "step-up",
        review.journey_id,
        review.version,
        {"from": before, "to": share, "step_up": rule, **(why or {})},
    )
    engine.store.record_review(ReviewChanges(reviews=[stepped], audit=[entry]))
    return stepped


def metrics(store: Store, review: VersionReview, now: datetime) -> dict[str, Any]:
    """What a step-up rule reads of the live version: customers who entered it, where they are, the share
    who reached the goal, the roll-out share and the hours since launch."""
    rows = [row for row in store.step_counts() if row[0] == review.journey_id and row[1] == review.version]
    entrants = sum(row[4] for row in rows)
    ended = {}
    for _, _, _, state, count in rows:
        if state != "active":
            ended[state.removeprefix("ended:")] = ended.get(state.removeprefix("ended:"), 0) + count
    goal = ended.get("goal_reached", 0)
    return {
        "entrants": entrants,
        "active": entrants - sum(ended.values()),
        "completed": ended.get("completed", 0),
        "goal_reached": goal,
        "exited": ended.get("exit_rule", 0),
        "goal_rate": goal / entrants if entrants else 0.0,
        "share": float((review.rollout or {}).get("percent", 100.0)),
        "hours_live": (now - review.updated_at).total_seconds() / 3600,
    }


def apply_step_up_rules(engine: Engine) -> list[VersionReview]:
    """Step up every live roll-out whose rule holds now (the worker calls this each round)."""
    stepped = []
    for state in engine.store.journeys():
        if state.rollout_percent >= 100 or state.is_paused:
            continue
        review = engine.store.review(state.journey_id, state.live_version)
        rule = (review.rollout or {}).get("step_up") if review else None
        if rule is None or review.status != "live":
            continue
        measured = metrics(engine.store, review, engine.clock.now())
        if step_up_holds(rule, measured):
            stepped.append(
                _set_share(
                    engine,
                    review,
                    rule["to"],
                    RULE_ACTOR,
                    rule=None,
                    why={"rule": rule["when"], "metrics": measured},
                )
            )
    return stepped


def pause(*, engine: Engine, journey_id: str, actor: User) -> VersionReview:
    """Hold the live version: nobody new enters and nobody in it moves until resumed."""
    return _hold(engine, journey_id, actor, "pause", engine.pause)


def resume(*, engine: Engine, journey_id: str, actor: User) -> VersionReview:
    """Let the paused version run again: what was held meanwhile is applied now."""
    return _hold(engine, journey_id, actor, "resume", engine.resume)


def _hold(engine: Engine, journey_id: str, actor: User, action: str, apply) -> VersionReview:
    review = live_review(engine.store, journey_id)
    require_owner(engine.store, journey_id, review.version, actor, action)
    moved = transition(store=engine.store, review=review, action=action, actor=actor, now=engine.clock.now())
    apply(journey_id)
    return moved


def rollback(*, engine: Engine, journey_id: str, actor: User) -> VersionReview:
    """Make the version live before the current one live again (its share as it was); the current one is
    retired. Customers mid-journey finish on the version they are in."""
    store, now = engine.store, engine.clock.now()
    current = live_review(store, journey_id)
    require_owner(store, journey_id, current.version, actor, "roll back")
    if current.previous_live is None:
        raise ReviewError(
            f"{current.subject} is the first live version of {journey_id!r}: there is nothing "
            "to roll back to (pause or retire it instead)"
        )
    previous = review_of(store, journey_id, current.previous_live)
    if current.status == "paused":
        engine.resume(journey_id)
    share = float((previous.rollout or {}).get("percent", 100.0))
    engine.launch(journey_id, previous.version, percent=share)
    transition(
        store=store,
        review=current,
        action="retire",
        actor=actor,
        now=now,
        detail={"rolled_back_to": previous.version},
    )
    return transition(
        store=store,
        review=previous,
        action="rollback",
        actor=actor,
        now=now,
        detail={"rolled_back_from": current.version},
    )


def retire(*, engine: Engine, journey_id: str, version: int, actor: User) -> VersionReview:
    """Retire a version. Retiring the live one lets nobody new in (a 0% share); customers in it finish."""
    store = engine.store
    require_owner(store, journey_id, version, actor, "retire")
    review = review_of(store, journey_id, version)
    retired = transition(store=store, review=review, action="retire", actor=actor, now=engine.clock.now())
    if review.status in ("live", "paused"):
        if review.status == "paused":
            engine.resume(journey_id)
        engine.set_rollout(journey_id, 0.0)
    return retired
