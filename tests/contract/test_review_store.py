"""Review and approval rows as every store keeps them: written together, read back per journey, the
audit trail numbered in order and never changed; drafts stored beside the live version."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from onboardflow.core.review import AuditEntry, Comment, Decision, ReviewChanges, Risk, VersionReview
from onboardflow.core.validation import load_journey
from onboardflow.store.connection import create_store_engine

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
JOURNEY = """\
id: hello
name: Hello
owner: cs-lead@shop.example
trigger: {event: Signed Up}
steps:
  - {id: welcome, send: {channel: email, template: welcome, purpose: transactional}}
"""


def review(version: int = 1, status: str = "draft") -> VersionReview:
    return VersionReview("hello", version, f"digest{version}", status, "ana@shop.example", T0, T0)


def test_a_governance_action_is_written_whole_and_read_back_per_journey(store):
    comment = Comment("c1", "hello", 1, "question", "why email?", "bob@shop.example", T0, step_id="welcome")
    risk = Risk(
        "r1",
        "hello",
        1,
        "late deliveries flood support",
        "high",
        "bob@shop.example",
        T0,
        T0 + timedelta(hours=48),
        owner=None,
    )
    written = store.record_review(
        ReviewChanges(
            reviews=[review()],
            comments=[comment],
            risks=[risk],
            audit=[AuditEntry(T0, "bob@shop.example", "comment", "hello", 1, {"comment": "c1"})],
        )
    )

    assert [entry.seq for entry in written] == [1]
    assert store.review("hello", 1) == review() and store.review("hello", 2) is None
    assert store.comments("hello") == [comment] and store.risks("hello") == [risk]
    assert store.comments("other") == [] and store.reviews("hello") == [review()]
    assert store.audit_trail("hello")[0].detail == {"comment": "c1"}


def test_rows_are_replaced_by_id_decisions_and_audit_lines_only_added(store):
    comment = Comment("c1", "hello", 1, "change_request", "shorter", "bob@shop.example", T0)
    store.record_review(ReviewChanges(reviews=[review()], comments=[comment]))
    decision = Decision(
        "d1",
        "hello",
        1,
        "c1",
        "ana@shop.example",
        "deferred",
        "next sprint",
        "ana@shop.example",
        T0 + timedelta(hours=1),
        due=T0 + timedelta(days=7),
    )
    store.record_review(
        ReviewChanges(
            reviews=[review(status="in_review")],
            comments=[replace(comment, decision_id="d1")],
            decisions=[decision],
            audit=[AuditEntry(T0, "ana", "submit", "hello", 1), AuditEntry(T0, "ana", "resolve", "hello", 1)],
        )
    )

    assert store.review("hello", 1).status == "in_review" and len(store.reviews("hello")) == 1
    assert store.comments("hello")[0].decision_id == "d1" and not store.comments("hello")[0].is_blocking
    assert store.decisions("hello") == [decision]
    assert [(e.seq, e.action) for e in store.audit_trail()] == [(1, "submit"), (2, "resolve")]
    with pytest.raises(Exception):  # noqa: B017 - each store says it its own way: the id is taken
        store.record_review(ReviewChanges(decisions=[decision]))
    assert len(store.decisions("hello")) == 1


def test_a_draft_is_stored_beside_the_live_version_and_made_live_by_number(store):
    live = load_journey(JOURNEY, source="hello.yaml")
    draft = load_journey(JOURNEY.replace("name: Hello", "name: Hello again"), source="hello.yaml")
    store.save_version(live.journey, digest=live.digest, source="a", now=T0)

    stored = store.save_version(draft.journey, digest=draft.digest, source="b", now=T0, live=False)
    again = store.save_version(draft.journey, digest=draft.digest, source="b", now=T0, live=False)
    back = store.save_version(live.journey, digest=live.digest, source="c", now=T0, live=False)

    assert stored.version == 2 == again.version and back.version == 1
    assert [v.version for v in store.live_versions()] == [1]
    with store.transaction() as tx:
        state = tx.set_live("hello", 2, now=T0)
        tx.set_rollout("hello", 10.0)
    assert state.live_version == 2 and state.name == "Hello again"
    [journey] = store.journeys()
    assert journey.live_version == 2 and journey.rollout_percent == 10.0


def test_the_audit_trail_cannot_be_changed_on_postgresql(postgres_store):
    postgres_store.record_review(ReviewChanges(audit=[AuditEntry(T0, "ana", "submit", "hello", 1)]))
    engine = create_store_engine(postgres_store.url)
    try:
        for statement in ("UPDATE audit_trail SET actor = 'mallory'", "DELETE FROM audit_trail"):
            with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as connection:
                connection.exec_driver_sql(statement)
    finally:
        engine.dispose()
    assert postgres_store.audit_trail()[0].actor == "ana"
