"""Playbooks as data: the built-ins cover every role and objective the product promises, and a bad file
gets every problem named with its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from onboardflow.playbooks.catalogue import KPIS
from onboardflow.playbooks.loading import (
    PlaybookInvalid,
    built_in_playbooks,
    playbooks,
    read_playbook,
    risk_presets,
)
from onboardflow.playbooks.model import EVIDENCE, STAGES

SHIPPED = built_in_playbooks()
GOOD = (Path(__file__).parents[3] / "src/onboardflow/playbooks/library/agency-stakeholder-alignment.yaml").read_text()


def test_one_playbook_ships_per_promised_role_and_objective():
    pairs = {(p.role, p.objective) for p in SHIPPED.values()}
    assert pairs >= {("customer_success", "onboarding_optimisation"), ("revops", "onboarding_optimisation"),
                     ("customer_success", "stakeholder_alignment"), ("agency", "stakeholder_alignment")}


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_each_playbook_walks_every_stage_and_closes_its_items_on_named_evidence(name):
    playbook = SHIPPED[name]
    assert [stage.id for stage in playbook.stages] == list(STAGES)
    checked = {item.evidence for item in playbook.checklist} - {"manual"}
    # every evidence kind onboardflow can check is used by every playbook: the promised checklist
    assert checked == set(EVIDENCE) - {"manual"}
    assert [c.kind for c in playbook.cadence].count("weekly_review") == 4
    assert {"support_signal_review", "midpoint_audit", "retrospective"} <= {c.kind for c in playbook.cadence}
    assert {KPIS[kpi].role for kpi in playbook.kpis} == {playbook.role}
    assert set(playbook.risks) <= set(risk_presets())


def test_the_risk_presets_cover_the_risks_that_usually_bite():
    presets = risk_presets()
    assert len(presets) == 9
    assert all(preset.mitigation and preset.fallback for preset in presets.values())


def test_a_bad_playbook_names_every_problem_with_its_line():
    text = GOOD.replace("role: agency", "role: sales").replace("{id: week-1,", "{id: week-1, colour: red,")
    with pytest.raises(PlaybookInvalid) as raised:
        read_playbook(text, source="mine.yaml")
    said = {(p.field, p.line) for p in raised.value.problems}
    role_line = text.splitlines().index("role: sales") + 1
    assert ("role", role_line) in said
    assert any(field == "cadence.0.colour" and "unknown field 'colour'" in p.message
               for p in raised.value.problems for field in [p.field])
    assert all(str(p).startswith("mine.yaml") for p in raised.value.problems)


def test_unknown_risk_presets_and_kpis_are_refused_with_the_known_ones_listed():
    text = GOOD.replace("feedback-reopens-scope,", "feedback-reopen-scope,").replace("approval_turnaround,",
                                                                                     "approval_speed,")
    with pytest.raises(PlaybookInvalid) as raised:
        read_playbook(text, source="mine.yaml")
    messages = [p.message for p in raised.value.problems]
    assert any("unknown risk preset 'feedback-reopen-scope'" in m and "feedback-reopens-scope" in m for m in messages)
    assert any("unknown KPI 'approval_speed'" in m and "approval_turnaround" in m for m in messages)


@pytest.mark.parametrize(("old", "new", "said"), [
    ("  - id: validate-evidence\n", "  - id: validate-evidenc\n", "validate-evidence"),
    ("  - id: tradeoffs\n", "  - id: objective\n", "objective used more than once"),
    ("kind: retrospective", "kind: midpoint_audit", "retrospective"),
    ("after: 7d", "after: soon", "soon"),
])
def test_a_playbook_must_be_whole(old, new, said):
    assert old in GOOD
    with pytest.raises(PlaybookInvalid) as raised:
        read_playbook(GOOD.replace(old, new, 1), source="mine.yaml")
    assert said in str(raised.value)


def test_a_teams_own_file_adds_to_the_built_ins_and_replaces_one_with_its_id(tmp_path):
    (tmp_path / "ours.yaml").write_text(GOOD.replace("id: agency-stakeholder-alignment", "id: our-agency"))
    (tmp_path / "agency.yaml").write_text(GOOD.replace("name: Agency × stakeholder alignment", "name: Ours now"))
    found = playbooks(tmp_path)
    assert set(found) == set(SHIPPED) | {"our-agency"}
    assert found["agency-stakeholder-alignment"].name == "Ours now"


def test_a_file_that_is_not_a_mapping_or_not_yaml_is_refused(tmp_path):
    for text, said in (("- a\n- b\n", "is a YAML mapping"), ("id: [unclosed\n", "not valid YAML")):
        with pytest.raises(PlaybookInvalid) as raised:
            read_playbook(text, source="x.yaml")
        assert said in str(raised.value)
