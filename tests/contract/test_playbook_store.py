"""Playbook attachments and records as every store keeps them: written with their audit lines in one
action, read back per journey in order; re-attaching replaces, a record id is written once."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from onboardflow.core.review import AuditEntry, PlaybookAttachment, PlaybookRecord, ReviewChanges

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
ATTACHED = PlaybookAttachment("hello", 2, "agency-stakeholder-alignment", {"id": "agency-stakeholder-alignment",
                              "checklist": [{"id": "objective"}]}, "cs@shop.example", "ana@shop.example", T0,
                              {"messaging-alignment": "cm_1"})


def record(rid: str, at: datetime, kind: str = "checkpoint", ref: str = "week-1") -> PlaybookRecord:
    return PlaybookRecord(rid, "hello", 2, kind, ref, at, "cs@shop.example",
                          {"findings": [["process_improvement", "support joins"]], "kpis": {"x": 1.5}})


def test_an_attachment_and_records_are_written_with_their_audit_lines_and_read_back(store):
    audit = AuditEntry(T0, "ana@shop.example", "playbook-attached", "hello", 2, {"playbook": ATTACHED.playbook_id})
    store.record_review(ReviewChanges(audit=[audit], attachments=[ATTACHED]))
    later, earlier = record("pr_2", T0 + timedelta(days=8)), record("pr_1", T0 + timedelta(days=7), "item", "crm")
    store.record_review(ReviewChanges(playbook_records=[later, earlier]))

    assert store.attachments() == [ATTACHED]
    assert store.playbook_records_of("hello") == [earlier, later]
    assert store.playbook_records_of("other") == []
    assert [e.action for e in store.audit_trail("hello")] == ["playbook-attached"]


def test_attaching_again_replaces_the_versions_attachment(store):
    store.record_review(ReviewChanges(attachments=[ATTACHED]))
    again = replace(ATTACHED, playbook_id="revops-onboarding-optimisation", post_launch_owner="bo@shop.example")
    other = replace(ATTACHED, version=3)
    store.record_review(ReviewChanges(attachments=[again, other]))
    assert store.attachments() == [again, other]


def test_a_record_is_written_once(store):
    store.record_review(ReviewChanges(playbook_records=[record("pr_1", T0)]))
    with pytest.raises(Exception):  # noqa: B017 - each store refuses in its own words (IntegrityError, ValueError)
        store.record_review(ReviewChanges(playbook_records=[record("pr_1", T0 + timedelta(days=1))]))
    assert [r.at for r in store.playbook_records_of("hello")] == [T0]
