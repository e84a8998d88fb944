"""Review as a service: drafts from loaded journeys, submission, comments, decisions, risks and the
approval gate. Each action checks who acts and what the lifecycle allows, then writes its rows and its
audit line in one transaction (`Store.record_review`). Time is given, never read."""

from __future__ import annotations

import difflib
import secrets
from dataclasses import replace
from datetime import datetime
from typing import Any

import yaml

from onboardflow.core.gate import ROLES_FOR, Evidence, TransitionRefused, approval_problems, next_status
from onboardflow.core.review import (
    COMMENT_KINDS,
    IMPACTS,
    OUTCOMES,
    RISK_DUE,
    RISK_STATUSES,
    AuditEntry,
    Comment,
    Decision,
    ReviewChanges,
    Risk,
    VersionReview,
)
from onboardflow.core.version import JourneyVersion
from onboardflow.ports import Store, StoredVersion, User


class ReviewError(Exception):
    """A governance action refused; `problems` lists every reason, `status` is the HTTP answer."""

    status = 409

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("; ".join(self.problems))


class Forbidden(ReviewError):
    status = 403


class NotFound(ReviewError):
    status = 404


class Invalid(ReviewError):
    status = 422


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(5)}"


def require_role(user: User, action: str) -> None:
    roles = ROLES_FOR[action]
    if not any(user.has_role(role) for role in roles):
        raise Forbidden(
            f"{user.email} cannot {action}: that needs the role {' or '.join(roles)} "
            f"(they have {', '.join(user.roles) or 'none'})"
        )


def stored_version(store: Store, journey_id: str, version: int) -> StoredVersion:
    stored = store.version(journey_id, version)
    if stored is None:
        numbers = [v.version for v in store.versions(journey_id)]
        known = f"its versions are {', '.join(map(str, numbers))}" if numbers else "it has no versions"
        raise NotFound(f"journey {journey_id!r} has no version {version}: {known}")
    return stored


def review_of(store: Store, journey_id: str, version: int) -> VersionReview:
    stored = stored_version(store, journey_id, version)
    found = store.review(journey_id, version)
    if found is None:  # stored by the engine's own path (a test, a simulation): a draft nobody wrote
        return VersionReview(
            journey_id, version, stored.digest, "draft", "unknown", stored.created_at, stored.created_at
        )
    return found


def save_draft(
    *, store: Store, version: JourneyVersion, source: str | None, author: User, now: datetime
) -> tuple[VersionReview, bool]:
    """Store loaded content as a draft (`load`, `PUT`): the same content keeps its version and status;
    changed content is a new draft, whatever the status of the one before. Returns (review, is_new)."""
    require_role(author, "submit")
    stored = store.save_version(version.journey, digest=version.digest, source=source, now=now, live=False)
    known = store.review(stored.journey_id, stored.version)
    if known is not None:
        return known, False
    draft = VersionReview(stored.journey_id, stored.version, stored.digest, "draft", author.email, now, now)
    before = _latest_other(store, stored)
    entry = AuditEntry(
        now,
        author.email,
        "draft",
        stored.journey_id,
        stored.version,
        {"source": source, "digest": stored.digest, "from_version": before.version if before else None},
        diff=version_diff(before, stored) if before else None,
    )
    store.record_review(ReviewChanges(reviews=[draft], audit=[entry]))
    return draft, True


def _latest_other(store: Store, stored: StoredVersion) -> StoredVersion | None:
    """The version a new draft is compared with: the live one, else the newest before it."""
    live = next((v for v in store.live_versions() if v.journey_id == stored.journey_id), None)
    if live is not None and live.version != stored.version:
        return live
    older = [v for v in store.versions(stored.journey_id) if v.version < stored.version]
    return older[-1] if older else None


def version_diff(old: StoredVersion | None, new: StoredVersion) -> str:
    """The unified diff of the two versions' YAML: what a reviewer reads."""
    before = _yaml(old.definition).splitlines(keepends=True) if old else []
    after = _yaml(new.definition).splitlines(keepends=True)
    name = f"{new.journey_id}.yaml"
    return "".join(
        difflib.unified_diff(
            before, after, f"{name} v{old.version}" if old else "/dev/null", f"{name} v{new.version}"
        )
    )


def _yaml(definition: dict[str, Any]) -> str:
    return yaml.safe_dump(definition, sort_keys=False, allow_unicode=True, width=100)


def transition(
    *,
    store: Store,
    review: VersionReview,
    action: str,
    actor: User,
    now: datetime,
    detail: dict[str, Any] | None = None,
    **changes: Any,
) -> VersionReview:
    """Move the version by `action` (TransitionRefused → 409) and write it with its audit line."""
    try:
        status = next_status(review, action)
    except TransitionRefused as refused:
        raise ReviewError(str(refused)) from None
    moved = replace(review, status=status, updated_at=now, **changes)
    entry = AuditEntry(
        now,
        actor.email,
        action,
        review.journey_id,
        review.version,
        {"from": review.status, "to": status, **(detail or {})},
    )
    store.record_review(ReviewChanges(reviews=[moved], audit=[entry]))
    return moved


def submit(*, store: Store, journey_id: str, version: int, actor: User, now: datetime) -> VersionReview:
    require_role(actor, "submit")
    return transition(
        store=store, review=review_of(store, journey_id, version), action="submit", actor=actor, now=now
    )


def withdraw(*, store: Store, journey_id: str, version: int, actor: User, now: datetime) -> VersionReview:
    require_role(actor, "withdraw")
    return transition(
        store=store, review=review_of(store, journey_id, version), action="withdraw", actor=actor, now=now
    )


def add_comment(
    *,
    store: Store,
    journey_id: str,
    version: int,
    kind: str,
    body: str,
    actor: User,
    now: datetime,
    step_id: str | None = None,
) -> Comment:
    """A note, question or change request on a step (`step_id`) or the whole journey."""
    require_role(actor, "comment")
    stored = stored_version(store, journey_id, version)
    problems = []
    if kind not in COMMENT_KINDS:
        problems.append(f"a comment's kind is one of {', '.join(COMMENT_KINDS)}, not {kind!r}")
    steps = [step["id"] for step in stored.definition.get("steps", [])]
    if step_id is not None and step_id not in steps:
        problems.append(
            f"step {step_id!r} is not in {journey_id} v{version}: its steps are {', '.join(steps)}"
        )
    if not body.strip():
        problems.append("say something: the comment's text is empty")
    if problems:
        raise Invalid(problems)
    comment = Comment(new_id("cmt"), journey_id, version, kind, body.strip(), actor.email, now, step_id)
    entry = AuditEntry(
        now,
        actor.email,
        "comment",
        journey_id,
        version,
        {"comment": comment.id, "kind": kind, "step": step_id, "body": comment.body},
    )
    store.record_review(ReviewChanges(comments=[comment], audit=[entry]))
    return comment


def resolve(
    *,
    store: Store,
    journey_id: str,
    comment_id: str,
    outcome: str,
    rationale: str,
    actor: User,
    now: datetime,
    owner: str | None = None,
    due: datetime | None = None,
) -> Decision:
    """Settle a comment with a decision: one owner (the actor unless named), an outcome, a rationale;
    a deferral needs a due date."""
    require_role(actor, "decide")
    comment = next((c for c in store.comments(journey_id) if c.id == comment_id), None)
    if comment is None:
        raise NotFound(f"journey {journey_id!r} has no comment {comment_id!r}: `review status` lists them")
    problems = _decision_problems(comment, outcome, rationale, due, now)
    owner_user = store.user(owner) if owner else actor
    if owner_user is None:
        problems.append(f"the decision's owner {owner!r} is not a user: add them with `onboardflow user add`")
    if problems:
        raise Invalid(problems) if comment.is_open else ReviewError(problems)
    decision = Decision(
        new_id("dec"),
        journey_id,
        comment.version,
        comment.id,
        owner_user.email,
        outcome,
        rationale.strip(),
        actor.email,
        now,
        due,
    )
    entry = AuditEntry(
        now,
        actor.email,
        "decide",
        journey_id,
        comment.version,
        {
            "decision": decision.id,
            "comment": comment.id,
            "outcome": outcome,
            "owner": decision.owner,
            "rationale": decision.rationale,
            "due": due.isoformat() if due else None,
        },
    )
    store.record_review(
        ReviewChanges(
            comments=[replace(comment, decision_id=decision.id)], decisions=[decision], audit=[entry]
        )
    )
    return decision


def _decision_problems(
    comment: Comment, outcome: str, rationale: str, due: datetime | None, now: datetime
) -> list[str]:
    if not comment.is_open:
        return [f"comment {comment.id} was resolved already (decision {comment.decision_id})"]
    problems = []
    if outcome not in OUTCOMES:
        problems.append(f"an outcome is one of {', '.join(OUTCOMES)}, not {outcome!r}")
    if not rationale.strip():
        problems.append("give the rationale: why this outcome")
    if outcome == "deferred" and (due is None or due <= now):
        problems.append("a deferred decision needs a due date in the future (--due 2026-04-01)")
    return problems


def raise_risk(
    *,
    store: Store,
    journey_id: str,
    version: int,
    risk: str,
    impact: str,
    actor: User,
    now: datetime,
    owner: str | None = None,
    fallback: str | None = None,
    due_at: datetime | None = None,
) -> Risk:
    """A risk or blocker in the version's register; due 48 hours after it is raised unless told."""
    require_role(actor, "risk")
    stored_version(store, journey_id, version)
    problems = _risk_problems(store, risk=risk, impact=impact, owner=owner)
    if problems:
        raise Invalid(problems)
    record = Risk(
        new_id("rsk"),
        journey_id,
        version,
        risk.strip(),
        impact,
        actor.email,
        now,
        due_at or now + RISK_DUE,
        owner=owner.lower() if owner else None,
        fallback=fallback.strip() if fallback else None,
        updated_at=now,
    )
    entry = AuditEntry(
        now,
        actor.email,
        "risk",
        journey_id,
        version,
        {
            "risk": record.id,
            "text": record.risk,
            "impact": impact,
            "owner": record.owner,
            "fallback": record.fallback,
            "due_at": record.due_at.isoformat(),
        },
    )
    store.record_review(ReviewChanges(risks=[record], audit=[entry]))
    return record


def update_risk(
    *, store: Store, journey_id: str, risk_id: str, actor: User, now: datetime, **fields: Any
) -> Risk:
    """Change a risk's owner, fallback, due date, impact or status; the audit line says what changed."""
    require_role(actor, "risk")
    found = next((r for r in store.risks(journey_id) if r.id == risk_id), None)
    if found is None:
        raise NotFound(f"journey {journey_id!r} has no risk {risk_id!r}: `review status` lists them")
    given = {name: value for name, value in fields.items() if value is not None}
    problems = _risk_problems(store, impact=given.get("impact"), owner=given.get("owner"))
    if "status" in given and given["status"] not in RISK_STATUSES:
        problems.append(f"a risk's status is one of {', '.join(RISK_STATUSES)}, not {given['status']!r}")
    if problems:
        raise Invalid(problems)
    if "owner" in given:
        given["owner"] = given["owner"].lower()
    changed = replace(found, updated_at=now, **given)
    shown = {
        name: value.isoformat() if isinstance(value, datetime) else value for name, value in given.items()
    }
    entry = AuditEntry(now, actor.email, "risk-update", journey_id, found.version, {"risk": risk_id, **shown})
    store.record_review(ReviewChanges(risks=[changed], audit=[entry]))
    return changed


def _risk_problems(
    store: Store, *, risk: str | None = None, impact: str | None = None, owner: str | None = None
) -> list[str]:
    problems = []
    if risk is not None and not risk.strip():
        problems.append("say what the risk is")
    if impact is not None and impact not in IMPACTS:
        problems.append(f"a risk's customer impact is one of {', '.join(IMPACTS)}, not {impact!r}")
    if owner and store.user(owner) is None:
        problems.append(f"the risk's owner {owner!r} is not a user: add them with `onboardflow user add`")
    return problems


def approve(
    *,
    store: Store,
    journey_id: str,
    version: int,
    actor: User,
    evidence: dict[str, Any] | None,
    now: datetime,
    confidence: int | None = None,
) -> VersionReview:
    """The approval gate: approved only when every condition holds, else ReviewError listing each one
    missing (an attached playbook's pre-launch items among them). The approval keeps the evidence (the
    simulation's seed, counts, acceptance results) and the owner's launch confidence (1–5), if given."""
    from onboardflow.playbooks.gate import approval_problems as playbook_problems

    if confidence is not None and not 1 <= confidence <= 5:
        raise Invalid(f"launch confidence is a score from 1 (low) to 5 (high), not {confidence}")
    review = review_of(store, journey_id, version)
    owner = stored_version(store, journey_id, version).definition["owner"]
    judged = (
        None
        if evidence is None
        else Evidence(
            evidence["digest"], evidence["passed"], len(evidence["acceptance"]), tuple(evidence["failing"])
        )
    )
    problems = approval_problems(
        review=review,
        owner=owner,
        approver=actor.email,
        comments=[c for c in store.comments(journey_id) if c.version == version],
        risks=[r for r in store.risks(journey_id) if r.version == version],
        evidence=judged,
    )
    problems += playbook_problems(store, journey_id, version, now=now, simulation=evidence)
    if problems:
        entry = AuditEntry(now, actor.email, "approval-refused", journey_id, version, {"problems": problems})
        store.record_review(ReviewChanges(audit=[entry]))
        raise ReviewError(problems)
    approval = {"by": actor.email, "at": now.isoformat(), "digest": review.digest, "simulation": evidence,
                "confidence": confidence}
    return transition(
        store=store,
        review=review,
        action="approve",
        actor=actor,
        now=now,
        detail={"digest": review.digest, "simulation": _summary(evidence)},
        approval=approval,
    )


def _summary(evidence: dict[str, Any]) -> dict[str, Any]:
    return {name: evidence[name] for name in ("seed", "customers", "days", "passed")}


def review_of_row(stored: StoredVersion, review: VersionReview | None) -> dict[str, Any]:
    """A version and its review as `review status` and the API list them."""
    return {
        "version": stored.version,
        "digest": stored.digest,
        "status": review.status if review else "draft",
        "author": review.author if review else "unknown",
        "approved_by": (review.approval or {}).get("by") if review else None,
        "percent": (review.rollout or {}).get("percent")
        if review and review.status in ("live", "paused")
        else None,
        "created_at": stored.created_at.isoformat() if stored.created_at else None,
    }
