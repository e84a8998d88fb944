"""A playbook run on a journey version, on the memory store and a virtual clock: attaching pre-fills the
register and the review, each checkable item stays open without its evidence and closes on it, the gate and
the launch refuse while items are open, checkpoints fall due from the launch and are flagged overdue, a
checkpoint keeps the KPIs of its day, and the retrospective sorts what was learned."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from tests.playbook_fixtures import UNDELIVERED_ORDER
from tests.playbook_fixtures import WELCOME as JOURNEY

from onboardflow.catalog import example_templates
from onboardflow.core.model import Event
from onboardflow.core.validation import load_journey
from onboardflow.engine.clock import VirtualClock
from onboardflow.engine.engine import Engine
from onboardflow.engine.ingest import parse_event
from onboardflow.governance import launch, people, service
from onboardflow.governance.evidence import SimulationPlan, simulate_version
from onboardflow.governance.service import ReviewError
from onboardflow.playbooks import service as playbooks
from onboardflow.store.memory import MemoryStore

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PLAYBOOK = "customer-success-onboarding-optimisation"
SCENARIO = [parse_event(UNDELIVERED_ORDER)]  # never delivered: the timeout escalates it


@pytest.fixture
def engine() -> Engine:
    engine = Engine(MemoryStore(), clock=VirtualClock(T0))
    for email, roles in (("ana@shop.example", "author"), ("cs-lead@shop.example", "owner,reviewer"),
                         ("bo@shop.example", "support")):
        people.add_user(store=engine.store, email=email, name=email[:3], roles=roles, password=None, now=T0)
    return engine


def as_user(engine, email):
    return engine.store.user(email)


def drafted(engine) -> int:
    draft, _ = service.save_draft(store=engine.store, version=load_journey(JOURNEY), source="welcome.yaml",
                                  author=as_user(engine, "ana@shop.example"), now=T0)
    playbooks.attach(store=engine.store, journey_id="welcome", version=draft.version, playbook_id=PLAYBOOK,
                     post_launch_owner="bo@shop.example", actor=as_user(engine, "ana@shop.example"), now=T0)
    service.submit(store=engine.store, journey_id="welcome", version=draft.version,
                   actor=as_user(engine, "ana@shop.example"), now=T0)
    return draft.version


def evidence(engine, version):
    return simulate_version(engine.store.version("welcome", version), templates=example_templates(),
                            plan=SimulationPlan(customers=120, days=21, seed=3))


def items(engine, version, **kwargs) -> dict[str, playbooks.ItemStatus]:
    _, found = playbooks.checklist_of(engine.store, "welcome", version, now=engine.clock.now(), **kwargs)
    return {item.evidence: item for item in found}


def approve(engine, version, proof):
    return service.approve(store=engine.store, journey_id="welcome", version=version,
                           actor=as_user(engine, "cs-lead@shop.example"), evidence=proof, now=engine.clock.now(),
                           confidence=4)


def settle(engine, version) -> None:
    """What the owner and support do to close the open items: decide the playbook's question, own each
    pre-filled risk, rehearse the escalation path."""
    owner = as_user(engine, "cs-lead@shop.example")
    [question] = [c for c in engine.store.comments("welcome") if c.is_blocking]
    service.resolve(store=engine.store, journey_id="welcome", comment_id=question.id, outcome="accepted",
                    rationale="copy checked with marketing", actor=owner, now=engine.clock.now())
    for risk in engine.store.risks("welcome"):
        service.update_risk(store=engine.store, journey_id="welcome", risk_id=risk.id, actor=owner,
                            now=engine.clock.now(), owner="bo@shop.example")
    playbooks.rehearse_version(store=engine.store, journey_id="welcome", version=version, events=SCENARIO,
                               actor=as_user(engine, "bo@shop.example"), now=engine.clock.now())


def test_attaching_prefills_the_register_and_opens_the_playbooks_question(engine):
    version = drafted(engine)
    risks = engine.store.risks("welcome")
    assert len(risks) == 5 and all(r.owner is None and r.fallback for r in risks)
    assert {r.impact for r in risks} >= {"critical", "high"}
    [question] = engine.store.comments("welcome")
    assert question.kind == "question" and "go-to-market" in question.body
    assert "playbook-attached" in [e.action for e in engine.store.audit_trail("welcome")]
    with pytest.raises(ReviewError, match="has a playbook already"):
        playbooks.attach(store=engine.store, journey_id="welcome", version=version, playbook_id=PLAYBOOK,
                         post_launch_owner="bo@shop.example", actor=as_user(engine, "ana@shop.example"), now=T0)


def test_attaching_is_refused_with_every_reason(engine):
    draft, _ = service.save_draft(store=engine.store, version=load_journey(JOURNEY), source="welcome.yaml",
                                  author=as_user(engine, "ana@shop.example"), now=T0)
    with pytest.raises(ReviewError) as refused:
        playbooks.attach(store=engine.store, journey_id="welcome", version=draft.version, playbook_id=PLAYBOOK,
                         post_launch_owner="nobody@shop.example", actor=as_user(engine, "bo@shop.example"), now=T0)
    said = "\n".join(refused.value.problems)
    assert "neither an author nor an owner" in said and "'nobody@shop.example' is not a user" in said
    with pytest.raises(ReviewError, match="no playbook 'sales'"):
        playbooks.attach(store=engine.store, journey_id="welcome", version=draft.version, playbook_id="sales",
                         post_launch_owner="bo@shop.example", actor=as_user(engine, "ana@shop.example"), now=T0)


def test_each_checkable_item_stays_open_without_its_evidence_and_closes_on_it(engine):
    version = drafted(engine)
    proof = evidence(engine, version)
    assert proof["counts"]["steps"].get("late"), "the simulation must reach the exception step"
    before = items(engine, version, simulation=proof)
    assert before["objective_and_approver"].closed
    assert before["exception_paths_mapped"].closed and "late" in before["exception_paths_mapped"].why
    assert not before["messaging_alignment_decision"].closed
    assert not before["escalation_rehearsed"].closed and "rehearse" in before["escalation_rehearsed"].why
    assert not before["riskiest_reviewed_first"].closed  # nobody but the attacher has touched the review
    assert not before["owner_approval_with_criteria"].closed and not before["evidence_review"].closed
    assert before["tradeoffs_recorded"].closed and before["post_launch_owner"].closed
    assert items(engine, version)["exception_paths_mapped"].why.startswith("no simulation of this exact version")

    settle(engine, version)
    after = items(engine, version, simulation=proof)
    assert after["messaging_alignment_decision"].closed and "copy checked" in after["messaging_alignment_decision"].why
    assert after["escalation_rehearsed"].closed and "resolved 1 of 1 tasks" in after["escalation_rehearsed"].why
    assert after["riskiest_reviewed_first"].closed


def test_the_gate_and_the_launch_refuse_while_the_playbooks_items_are_open(engine):
    version = drafted(engine)
    proof = evidence(engine, version)
    with pytest.raises(ReviewError) as refused:
        approve(engine, version, proof)
    said = [p for p in refused.value.problems if p.startswith(f"playbook {PLAYBOOK}")]
    assert any("go-to-market" in p for p in said) and any("rehearse" in p for p in said)
    assert not any("approved by the owner" in p for p in said)  # the approval itself closes those

    settle(engine, version)
    approved = approve(engine, version, proof)
    assert approved.status == "approved" and approved.approval["confidence"] == 4
    assert all(item.closed for item in items(engine, version).values())
    launched, _ = launch.launch(engine=engine, journey_id="welcome", version=version,
                                actor=as_user(engine, "cs-lead@shop.example"))
    assert launched.status == "live"


def test_a_launch_is_refused_when_an_item_reopened_after_the_approval(engine):
    version = drafted(engine)
    proof = evidence(engine, version)
    settle(engine, version)
    approve(engine, version, proof)
    engine.clock.jump_to(T0 + timedelta(days=9))
    owner = as_user(engine, "cs-lead@shop.example")
    service.add_comment(store=engine.store, journey_id="welcome", version=version, kind="question",
                        body="are we sure?", actor=as_user(engine, "ana@shop.example"), now=T0)
    with pytest.raises(ReviewError) as refused:
        launch.launch(engine=engine, journey_id="welcome", version=version, actor=owner)
    assert any("open past one review cycle" in p for p in refused.value.problems)


def test_checkpoints_fall_due_from_the_launch_are_flagged_overdue_and_keep_the_days_kpis(engine):
    version = drafted(engine)
    proof = evidence(engine, version)
    settle(engine, version)
    approve(engine, version, proof)
    launch.launch(engine=engine, journey_id="welcome", version=version, actor=as_user(engine, "cs-lead@shop.example"))
    engine.ingest([Event("o2", "Order Completed", "c2", T0, {"order_id": "B1", "total": 50.0}, {"email": "c2@x.io"})])

    engine.run_timers_until(T0 + timedelta(days=10))
    states = {c.checkpoint_id: c.state for c in playbooks.checkpoints(engine.store, "welcome", version,
                                                                       now=engine.clock.now())}
    assert states["week-1"] == "overdue" and states["week-2"] == "upcoming"
    held = playbooks.record_checkpoint(store=engine.store, journey_id="welcome", version=version,
                                       checkpoint_id="week-1", actor=as_user(engine, "bo@shop.example"),
                                       now=engine.clock.now(),
                                       findings=[("process_improvement", "support joins week one")])
    assert held.detail["state_when_held"] == "overdue"
    assert held.detail["kpis"]["escalation_frequency"]["sample"] == 1  # c2 entered; its delivery never came
    assert held.detail["kpis"]["escalation_frequency"]["value"] == 100
    states = {c.checkpoint_id: c.state for c in playbooks.checkpoints(engine.store, "welcome", version,
                                                                       now=engine.clock.now())}
    assert states["week-1"] == "done"
    with pytest.raises(ReviewError, match="held already"):
        playbooks.record_checkpoint(store=engine.store, journey_id="welcome", version=version,
                                    checkpoint_id="week-1", actor=as_user(engine, "bo@shop.example"),
                                    now=engine.clock.now())

    retro = playbooks.hold_retrospective(store=engine.store, journey_id="welcome", version=version,
                                         actor=as_user(engine, "cs-lead@shop.example"), now=engine.clock.now(),
                                         findings=[("measurement_refinement", "count first use from the app")])
    assert retro.findings["process_improvement"] == ("support joins week one",)
    assert retro.findings["measurement_refinement"] == ("count first use from the app",)
    assert retro.readiness[0] == ("The process change is written into the playbook or the journey: "
                                  "support joins week one")
    assert not any("support-signal" in item for item in retro.readiness)  # not due yet at day 10
    assert "playbook-retrospective" in [e.action for e in engine.store.audit_trail("welcome")]


def test_checkpoints_wait_for_the_launch_and_a_manual_item_closes_only_by_hand(engine):
    version = drafted(engine)
    assert playbooks.checkpoints(engine.store, "welcome", version, now=T0) == []
    with pytest.raises(ReviewError, match="has not launched"):
        playbooks.record_checkpoint(store=engine.store, journey_id="welcome", version=version,
                                    checkpoint_id="week-1", actor=as_user(engine, "bo@shop.example"), now=T0)
    with pytest.raises(ReviewError, match="not by hand"):
        playbooks.close_item(store=engine.store, journey_id="welcome", version=version, item_id="objective",
                             note="trust me", actor=as_user(engine, "ana@shop.example"), now=T0)
