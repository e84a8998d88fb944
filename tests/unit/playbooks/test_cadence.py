"""After launch: checkpoints fall due from the launch date and are flagged overdue past their grace, on
whatever clock the caller runs; the retrospective sorts what was learned into the next cycle's checklist."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from onboardflow.playbooks.cadence import DONE, DUE, OVERDUE, UPCOMING, CheckpointRecord, calendar
from onboardflow.playbooks.loading import built_in_playbooks
from onboardflow.playbooks.retrospective import retrospective

PLAYBOOK = built_in_playbooks()["customer-success-onboarding-optimisation"]
LAUNCH = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def states(now, records=()):
    return {c.checkpoint_id: c.state for c in calendar(PLAYBOOK, LAUNCH, records, now=now)}


def test_checkpoints_are_dated_from_the_launch_in_date_order():
    dated = calendar(PLAYBOOK, LAUNCH, (), now=LAUNCH)
    assert [c.checkpoint_id for c in dated][:3] == ["week-1", "support-signal", "week-2"]
    week_1 = dated[0]
    assert (week_1.due_at, week_1.overdue_at) == (LAUNCH + timedelta(days=7), LAUNCH + timedelta(days=9))
    assert dated[-1].kind == "retrospective" and dated[-1].due_at == LAUNCH + timedelta(days=90)
    assert set(states(LAUNCH).values()) == {UPCOMING}


def test_a_checkpoint_is_due_on_its_date_and_overdue_past_its_grace_unless_done():
    assert states(LAUNCH + timedelta(days=7))["week-1"] == DUE
    assert states(LAUNCH + timedelta(days=9) - timedelta(seconds=1))["week-1"] == DUE
    assert states(LAUNCH + timedelta(days=9))["week-1"] == OVERDUE
    held = CheckpointRecord("week-1", LAUNCH + timedelta(days=10), "cs-lead@shop.example")
    later = states(LAUNCH + timedelta(days=20), [held])
    assert later["week-1"] == DONE and later["week-2"] == OVERDUE and later["week-3"] == UPCOMING
    # the retrospective has a week of grace, not two days
    assert states(LAUNCH + timedelta(days=96))["retrospective"] == DUE
    assert states(LAUNCH + timedelta(days=97))["retrospective"] == OVERDUE


def test_the_retrospective_sorts_findings_and_turns_them_into_the_next_cycles_checklist():
    retro = retrospective("welcome", 3, [
        ("measurement_refinement", "Count first use from the app, not from delivery"),
        ("process_improvement", "Support joins the week-one review"),
        ("assumption_correction", "Wholesale buyers do not read SMS"),
        ("process_improvement", "Copy changes go through one reviewer"),
    ], open_items=["checkpoint midpoint"])
    assert retro.findings["process_improvement"] == ("Support joins the week-one review",
                                                     "Copy changes go through one reviewer")
    assert retro.readiness[0].startswith("The process change is written into the playbook or the journey")
    assert retro.readiness[2].endswith("Wholesale buyers do not read SMS")
    assert retro.readiness[-1] == "Close what this cycle left open: checkpoint midpoint"
    text = retro.markdown()
    assert text.index("## Process improvements") < text.index("## Assumption corrections") < text.index(
        "## Measurement refinements") < text.index("## Readiness checklist")
    assert "- [ ] The refined measure has a baseline reading before launch: Count first use" in text


@pytest.mark.parametrize(("finding", "said"), [(("lesson", "x"), "not 'lesson'"),
                                               (("process_improvement", "  "), "needs its text")])
def test_a_finding_of_no_known_kind_or_without_text_is_refused(finding, said):
    with pytest.raises(ValueError, match=said):
        retrospective("welcome", 1, [finding])
