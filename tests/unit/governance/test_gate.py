"""The lifecycle's transitions and the approval gate, pure: each condition allowed and refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from onboardflow.core.gate import (
    TRANSITIONS,
    Evidence,
    TransitionRefused,
    approval_problems,
    check_step_up,
    in_rollout,
    next_status,
    read_percent,
    step_up_holds,
)
from onboardflow.core.review import STATUSES, Comment, Risk, VersionReview

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
OWNER, AUTHOR = "cs-lead@shop.example", "ana@shop.example"


def review(status: str = "in_review") -> VersionReview:
    return VersionReview("hello", 2, "abc", status, AUTHOR, T0, T0)


def passing() -> Evidence:
    return Evidence("abc", passed=True, criteria=1)


def problems(**changes):
    given = {
        "review": review(),
        "owner": OWNER,
        "approver": OWNER,
        "comments": [],
        "risks": [],
        "evidence": passing(),
        **changes,
    }
    return approval_problems(**given)


@pytest.mark.parametrize(
    ("action", "allowed"), [(a, s) for a, (starts, _) in TRANSITIONS.items() for s in starts]
)
def test_every_transition_is_allowed_from_its_statuses(action, allowed):
    assert next_status(review(allowed), action) == TRANSITIONS[action][1]


@pytest.mark.parametrize(
    ("action", "refused"),
    [(a, s) for a, (starts, _) in TRANSITIONS.items() for s in STATUSES if s not in starts],
)
def test_every_transition_is_refused_from_the_other_statuses_saying_what_it_needs(action, refused):
    with pytest.raises(TransitionRefused, match=f"{action} needs it"):
        next_status(review(refused), action)


def test_only_an_approved_version_can_launch():
    assert [s for s in STATUSES if s in TRANSITIONS["launch"][0]] == ["approved"]


def test_the_owner_approves_a_clean_version_on_passing_evidence():
    assert problems() == []


def test_a_refusal_lists_every_missing_condition():
    open_question = Comment("c1", "hello", 2, "question", "why?", OWNER, T0, step_id="welcome")
    change = Comment("c2", "hello", 2, "change_request", "shorter", OWNER, T0)
    note = Comment("c3", "hello", 2, "note", "nice", OWNER, T0)
    bare_risk = Risk("r1", "hello", 2, "late parcels", "high", OWNER, T0, T0 + timedelta(hours=48))
    found = problems(
        review=review("draft"),
        approver=AUTHOR,
        comments=[open_question, change, note],
        risks=[bare_risk],
        evidence=None,
    )

    assert found == [
        "hello v2 is draft, not in review: submit it for review first",
        f"only the journey's named owner ({OWNER}) approves it, not {AUTHOR}",
        f"{AUTHOR} authored hello v2: its author cannot approve it",
        "question c1 is open on step 'welcome': resolve it with a decision",
        "change request c2 is open: resolve it with a decision",
        "risk r1 (late parcels) has no owner",
        "risk r1 (late parcels) has no fallback plan",
        "no simulation of hello v2 shows its acceptance criteria passing",
    ]


def test_the_owner_cannot_approve_their_own_version():
    assert problems(review=VersionReview("hello", 2, "abc", "in_review", OWNER, T0, T0)) == [
        f"{OWNER} authored hello v2: its author cannot approve it"
    ]


def test_resolved_comments_and_settled_or_owned_risks_do_not_block():
    resolved = Comment("c1", "hello", 2, "question", "why?", OWNER, T0, decision_id="d1")
    owned = Risk("r1", "hello", 2, "late", "high", OWNER, T0, T0, owner=OWNER, fallback="pause it")
    closed = Risk("r2", "hello", 2, "late", "low", OWNER, T0, T0, status="closed")

    assert problems(comments=[resolved], risks=[owned, closed]) == []


@pytest.mark.parametrize(
    ("evidence", "expected"),
    [
        (
            Evidence("other", True, 1),
            "the simulation ran other content than hello v2: simulate this exact version",
        ),
        (Evidence("abc", True, 0), "the journey file states no acceptance criteria"),
        (
            Evidence("abc", False, 2, ("at most 4 messages: 3 break it",)),
            "acceptance criterion failed in the simulation: at most 4 messages: 3 break it",
        ),
    ],
)
def test_evidence_must_be_this_exact_content_with_criteria_that_pass(evidence, expected):
    [problem] = problems(evidence=evidence)
    assert problem.startswith(expected)


def test_the_rollout_share_is_stable_and_grows_monotonically():
    customers = [f"c{n}" for n in range(4000)]
    at = {share: {c for c in customers if in_rollout("hello", c, share)} for share in (10, 50, 100)}

    assert at[10] <= at[50] <= at[100] == set(customers)
    assert 300 < len(at[10]) < 500 and 1800 < len(at[50]) < 2200
    assert not any(in_rollout("hello", c, 0) for c in customers)
    assert at[10] != {c for c in customers if in_rollout("other-journey", c, 10)}  # per journey


def test_shares_and_step_up_rules_are_checked():
    assert read_percent("10%") == 10.0 and read_percent(50) == 50.0
    for bad in ("0%", "150", "lots"):
        with pytest.raises(ValueError):
            read_percent(bad)
    rule = check_step_up({"to": "50%", "when": "goal_rate >= 0.1 and entrants >= 200"}, 10.0)
    assert rule == {"to": 50.0, "when": "goal_rate >= 0.1 && entrants >= 200"}
    with pytest.raises(ValueError, match="goes above the current share"):
        check_step_up({"to": "10%", "when": "entrants > 1"}, 10.0)
    with pytest.raises(ValueError, match="unknown variable 'revenue'"):
        check_step_up({"to": "50%", "when": "revenue > 1"}, 10.0)
    assert step_up_holds(rule, {"goal_rate": 0.12, "entrants": 250})
    assert not step_up_holds(rule, {"goal_rate": 0.12, "entrants": 150})
