"""The rules of review and launch, pure: which status a version may move to and who may move it, the
approval gate (every condition it misses), the roll-out share a customer falls in, and the step-up rule.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from onboardflow.core.conditions import ConditionError, compile_condition
from onboardflow.core.review import Comment, Risk, VersionReview

# action -> (statuses it starts from, status it leads to)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "submit": (("draft",), "in_review"),
    "withdraw": (("in_review",), "draft"),
    "approve": (("in_review",), "approved"),
    "launch": (("approved",), "live"),
    "pause": (("live",), "paused"),
    "resume": (("paused",), "live"),
    "retire": (("live", "paused", "approved", "draft", "in_review"), "retired"),
    "rollback": (("retired",), "live"),  # the version live before: approved once, on the same content
}
# who may take each action, by role; approving is the gate's own (the journey's named owner)
ROLES_FOR = {
    "submit": ("author",),
    "withdraw": ("author",),
    "comment": ("author", "reviewer", "owner"),
    "decide": ("reviewer", "owner"),
    "risk": ("author", "reviewer", "owner"),
}
OWNER_ACTIONS = ("launch", "pause", "resume", "retire", "rollback", "step-up")
METRICS = ("entrants", "active", "completed", "goal_reached", "exited", "goal_rate", "share", "hours_live")


class TransitionRefused(ValueError):
    """The version is not in a status the action starts from."""


def next_status(review: VersionReview, action: str) -> str:
    """The status `action` takes the version to; TransitionRefused saying which statuses it needs."""
    starts, leads_to = TRANSITIONS[action]
    if review.status not in starts:
        raise TransitionRefused(
            f"{review.subject} is {review.status.replace('_', ' ')}: {action} needs it "
            f"{' or '.join(s.replace('_', ' ') for s in starts)}"
        )
    return leads_to


@dataclass(frozen=True, slots=True)
class Evidence:
    """A simulation of one version: the content hash it ran, whether every criterion passed, and how
    many criteria there were."""

    digest: str
    passed: bool
    criteria: int
    failing: tuple[str, ...] = ()


def approval_problems(
    *,
    review: VersionReview,
    owner: str,
    approver: str,
    comments: Iterable[Comment],
    risks: Iterable[Risk],
    evidence: Evidence | None,
) -> list[str]:
    """Every condition the approval misses (none: it may go ahead)."""
    problems = []
    if review.status != "in_review":
        problems.append(
            f"{review.subject} is {review.status.replace('_', ' ')}, not in review: "
            "submit it for review first"
        )
    if approver.lower() != owner.lower():
        problems.append(f"only the journey's named owner ({owner}) approves it, not {approver}")
    if approver.lower() == review.author.lower():
        problems.append(f"{approver} authored {review.subject}: its author cannot approve it")
    problems.extend(
        f"{comment.kind.replace('_', ' ')} {comment.id} is open"
        f"{' on step ' + repr(comment.step_id) if comment.step_id else ''}: resolve it "
        "with a decision"
        for comment in comments
        if comment.is_blocking
    )
    for risk in risks:
        if risk.is_open and not risk.owner:
            problems.append(f"risk {risk.id} ({risk.risk}) has no owner")
        if risk.is_open and not risk.fallback:
            problems.append(f"risk {risk.id} ({risk.risk}) has no fallback plan")
    problems.extend(_evidence_problems(review, evidence))
    return problems


def _evidence_problems(review: VersionReview, evidence: Evidence | None) -> list[str]:
    if evidence is None:
        return [f"no simulation of {review.subject} shows its acceptance criteria passing"]
    if evidence.digest != review.digest:
        return [f"the simulation ran other content than {review.subject}: simulate this exact version"]
    if evidence.criteria == 0:
        return [
            "the journey file states no acceptance criteria: add an `acceptance:` list, so a "
            "simulation can show the version does what it should"
        ]
    if not evidence.passed:
        return [f"acceptance criterion failed in the simulation: {failing}" for failing in evidence.failing]
    return []


def in_rollout(journey_id: str, customer_id: str, percent: float) -> bool:
    """Whether a triggered customer is let in at this share. Stable: the hash of the customer's id puts
    them at one point of 0–100, so whoever is in at 10% is still in at 50%."""
    if percent >= 100:
        return True
    digest = hashlib.blake2b(f"{journey_id}\x00{customer_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % 10_000 < percent * 100


def read_percent(value: Any) -> float:
    """`10%`, '10' or 10 as 10.0; ValueError unless it is more than 0 and at most 100."""
    text = str(value).strip().removesuffix("%").strip()
    try:
        percent = float(text)
    except ValueError:
        raise ValueError(f"{value!r} is not a share: write a percentage like 10%") from None
    if not 0 < percent <= 100:
        raise ValueError(f"a roll-out share is more than 0% and at most 100%, not {value!r}")
    return percent


def check_step_up(rule: Mapping[str, Any], current: float) -> dict[str, Any]:
    """A step-up rule `{to: 50%, when: "goal_rate >= 0.1 and entrants >= 200"}`, checked: the share it
    goes to (above `current`) and a condition over the live version's metrics (METRICS)."""
    to = read_percent(rule.get("to"))
    if to <= current:
        raise ValueError(f"a step up goes above the current share ({current:g}%), not to {to:g}%")
    when = re.sub(r"\band\b", "&&", re.sub(r"\bor\b", "||", str(rule.get("when") or ""))).strip()
    if not when:
        raise ValueError(f"say when to step up, over the metrics {', '.join(METRICS)}")
    try:
        compile_condition(when, variables=METRICS)
    except ConditionError as error:
        raise ValueError(f"step-up condition {when!r}: {error}") from None
    return {"to": to, "when": when}


def step_up_holds(rule: Mapping[str, Any], metrics: Mapping[str, Any]) -> bool:
    """Whether the rule's condition holds for these metrics (a condition that cannot be judged: no)."""
    condition = compile_condition(rule["when"], variables=METRICS)
    return condition.evaluate({name: metrics.get(name, 0) for name in METRICS})
