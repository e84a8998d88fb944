"""From draft to live on the memory store and a virtual clock: drafts, the gate with a real simulation,
a phased roll-out applied at trigger time (holdout kept), step-up by the owner and by rule, rollback."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from onboardflow.catalog import example_templates
from onboardflow.core.model import Event
from onboardflow.core.validation import load_journey
from onboardflow.engine.clock import VirtualClock
from onboardflow.engine.engine import Engine
from onboardflow.governance import launch, people, service
from onboardflow.governance.evidence import SimulationPlan, simulate_version
from onboardflow.store.memory import MemoryStore

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
JOURNEY = """\
id: hello
name: Hello
owner: cs-lead@shop.example
trigger: {{event: Signed Up}}
holdout: 20%
steps:
  - {{id: welcome, send: {{channel: email, template: account_welcome, purpose: transactional}}}}
  - {{id: settle, wait: {wait}}}
acceptance:
  - {{max_messages: {most}, within: 7d}}
"""


@pytest.fixture
def engine() -> Engine:
    engine = Engine(MemoryStore(), clock=VirtualClock(T0))
    people.add_user(
        store=engine.store, email="ana@shop.example", name="Ana", roles="author", password=None, now=T0
    )
    people.add_user(
        store=engine.store,
        email="cs-lead@shop.example",
        name="Cy",
        roles="owner,reviewer",
        password=None,
        now=T0,
    )
    return engine


def user(engine, email):
    return engine.store.user(email)


def approved(engine, wait: str = "2d", most: int = 3) -> int:
    """A version drafted by ana, submitted, approved by the owner on a real simulation; its number."""
    store, now = engine.store, engine.clock.now()
    draft, _ = service.save_draft(
        store=store,
        version=load_journey(JOURNEY.format(wait=wait, most=most)),
        source="hello.yaml",
        author=user(engine, "ana@shop.example"),
        now=now,
    )
    service.submit(
        store=store,
        journey_id="hello",
        version=draft.version,
        actor=user(engine, "ana@shop.example"),
        now=now,
    )
    evidence = simulate_version(
        store.version("hello", draft.version),
        templates=example_templates(),
        plan=SimulationPlan(customers=30, days=7),
    )
    service.approve(
        store=store,
        journey_id="hello",
        version=draft.version,
        actor=user(engine, "cs-lead@shop.example"),
        evidence=evidence,
        now=now,
    )
    return draft.version


def sign_up(engine, count: int, prefix: str = "c") -> None:
    now = engine.clock.now()
    engine.ingest([Event(f"s-{prefix}{n}", "Signed Up", f"{prefix}{n}", now, {}, None) for n in range(count)])


def test_a_failing_criterion_in_the_simulation_refuses_the_approval_and_nothing_goes_live(engine):
    with pytest.raises(service.ReviewError, match="acceptance criterion failed in the simulation"):
        approved(engine, most=0)
    assert engine.store.review("hello", 1).status == "in_review" and engine.store.journeys() == []
    assert engine.store.audit_trail("hello")[-1].action == "approval-refused"


def test_a_phased_rollout_lets_a_stable_share_in_with_the_holdout_kept_and_the_owner_steps_it_up(engine):
    owner = user(engine, "cs-lead@shop.example")
    version = approved(engine)
    launch.launch(engine=engine, journey_id="hello", version=version, actor=owner, percent="10%")
    sign_up(engine, 1000)
    first = {e.customer_id for e in engine.store.enrollments.values()}

    launch.step_up(engine=engine, journey_id="hello", actor=owner, percent="50%")
    now = engine.clock.now()  # the same customers trigger again: those left out at 10% may be in at 50%
    engine.ingest([Event(f"again-c{n}", "Signed Up", f"c{n}", now, {}, None) for n in range(1000)])

    assert 60 < len(first) < 140
    later = {e.customer_id for e in engine.store.enrollments.values()}
    assert first < later and 400 < len(later) < 600
    groups = [e.group for e in engine.store.enrollments.values()]
    assert 0.1 < groups.count("holdout") / len(groups) < 0.3
    with pytest.raises(service.ReviewError, match="a step up goes above it"):
        launch.step_up(engine=engine, journey_id="hello", actor=owner, percent="20%")


def test_only_the_named_owner_launches_and_only_an_approved_version(engine):
    version = approved(engine)
    with pytest.raises(service.Forbidden, match="only the journey's named owner"):
        launch.launch(
            engine=engine, journey_id="hello", version=version, actor=user(engine, "ana@shop.example")
        )
    draft, _ = service.save_draft(
        store=engine.store,
        version=load_journey(JOURNEY.format(wait="5d", most=3)),
        source="x",
        author=user(engine, "ana@shop.example"),
        now=T0,
    )
    with pytest.raises(service.ReviewError, match="launch needs it approved"):
        launch.launch(
            engine=engine,
            journey_id="hello",
            version=draft.version,
            actor=user(engine, "cs-lead@shop.example"),
        )
    assert engine.store.journeys() == []


def test_a_step_up_rule_is_taken_by_the_worker_when_its_metric_holds(engine):
    owner = user(engine, "cs-lead@shop.example")
    version = approved(engine)
    launch.launch(
        engine=engine,
        journey_id="hello",
        version=version,
        actor=owner,
        percent=10,
        step_up={"to": "100%", "when": "entrants >= 40"},
    )
    sign_up(engine, 200)
    assert launch.apply_step_up_rules(engine) == []  # about 20 entrants so far

    sign_up(engine, 400, prefix="d")
    [stepped] = launch.apply_step_up_rules(engine)

    assert stepped.rollout == {"percent": 100.0, "step_up": None}
    assert engine.store.journeys()[0].rollout_percent == 100.0
    entry = engine.store.audit_trail("hello")[-1]
    assert (entry.actor, entry.action, entry.detail["to"]) == ("step-up rule", "step-up", 100.0)


def test_a_change_makes_a_new_draft_and_rollback_makes_the_version_before_live_again(engine):
    owner = user(engine, "cs-lead@shop.example")
    first = approved(engine)
    launch.launch(engine=engine, journey_id="hello", version=first, actor=owner)
    sign_up(engine, 5)
    second = approved(engine, wait="3d")
    launch.launch(engine=engine, journey_id="hello", version=second, actor=owner)

    assert (first, second) == (1, 2) and engine.store.review("hello", 1).status == "retired"
    rolled = launch.rollback(engine=engine, journey_id="hello", actor=owner)

    assert rolled.status == "live" and engine.store.journeys()[0].live_version == 1
    assert engine.store.review("hello", 2).status == "retired"
    assert {e.version for e in engine.store.enrollments.values()} == {1}  # mid-journey customers stay
    actions = [e.action for e in engine.store.audit_trail("hello")]
    assert actions[-2:] == ["retire", "rollback"] and "diff" in actions
    diff = next(e.diff for e in engine.store.audit_trail("hello") if e.action == "draft" and e.version == 2)
    assert "-  wait: 2d" in diff and "+  wait: 3d" in diff


def test_pause_resume_and_retire_of_the_live_version(engine):
    owner = user(engine, "cs-lead@shop.example")
    launch.launch(engine=engine, journey_id="hello", version=approved(engine), actor=owner)

    assert launch.pause(engine=engine, journey_id="hello", actor=owner).status == "paused"
    assert engine.store.journeys()[0].is_paused
    assert launch.resume(engine=engine, journey_id="hello", actor=owner).status == "live"
    assert launch.retire(engine=engine, journey_id="hello", version=1, actor=owner).status == "retired"
    sign_up(engine, 50)
    assert engine.store.enrollments == {} and engine.store.journeys()[0].rollout_percent == 0.0
    with pytest.raises(service.ReviewError, match="no live version"):
        launch.rollback(engine=engine, journey_id="hello", actor=owner)
