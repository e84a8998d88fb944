"""The memory store's review and approval rows, as `store.review` keeps them in SQL."""

from __future__ import annotations

import threading
from dataclasses import replace

from onboardflow.core.review import (
    AuditEntry,
    Comment,
    Decision,
    PlaybookAttachment,
    PlaybookRecord,
    ReviewChanges,
    Risk,
    VersionReview,
)


class MemoryReview:
    """Mixed into MemoryStore; the audit trail is a list only ever appended to."""

    _lock: threading.RLock

    def __init__(self) -> None:
        self.version_reviews: dict[tuple[str, int], VersionReview] = {}
        self.review_comments: dict[str, Comment] = {}
        self.review_decisions: dict[str, Decision] = {}
        self.review_risks: dict[str, Risk] = {}
        self.trail: list[AuditEntry] = []
        self.playbook_attachments: dict[tuple[str, int], PlaybookAttachment] = {}
        self.playbook_records: dict[str, PlaybookRecord] = {}

    def record_review(self, changes: ReviewChanges) -> list[AuditEntry]:
        with self._lock:
            for decision in changes.decisions:
                if decision.id in self.review_decisions:
                    raise ValueError(f"a decision {decision.id!r} exists already")
            for record in changes.playbook_records:
                if record.id in self.playbook_records:
                    raise ValueError(f"a playbook record {record.id!r} exists already")
            for review in changes.reviews:
                self.version_reviews[(review.journey_id, review.version)] = review
            self.review_comments.update((comment.id, comment) for comment in changes.comments)
            self.review_risks.update((risk.id, risk) for risk in changes.risks)
            self.review_decisions.update((decision.id, decision) for decision in changes.decisions)
            self.playbook_attachments.update(((a.journey_id, a.version), a) for a in changes.attachments)
            self.playbook_records.update((record.id, record) for record in changes.playbook_records)
            written = [
                replace(entry, seq=len(self.trail) + index + 1) for index, entry in enumerate(changes.audit)
            ]
            self.trail.extend(written)
            return written

    def review(self, journey_id: str, version: int) -> VersionReview | None:
        return self.version_reviews.get((journey_id, version))

    def reviews(self, journey_id: str) -> list[VersionReview]:
        return sorted(
            (r for r in self.version_reviews.values() if r.journey_id == journey_id), key=lambda r: r.version
        )

    def comments(self, journey_id: str) -> list[Comment]:
        found = [c for c in self.review_comments.values() if c.journey_id == journey_id]
        return sorted(found, key=lambda c: (c.created_at, c.id))

    def decisions(self, journey_id: str) -> list[Decision]:
        found = [d for d in self.review_decisions.values() if d.journey_id == journey_id]
        return sorted(found, key=lambda d: (d.created_at, d.id))

    def risks(self, journey_id: str) -> list[Risk]:
        found = [r for r in self.review_risks.values() if r.journey_id == journey_id]
        return sorted(found, key=lambda r: (r.raised_at, r.id))

    def audit_trail(self, journey_id: str | None = None) -> list[AuditEntry]:
        return [e for e in self.trail if journey_id is None or e.journey_id == journey_id]

    def attachments(self) -> list[PlaybookAttachment]:
        return [self.playbook_attachments[key] for key in sorted(self.playbook_attachments)]

    def playbook_records_of(self, journey_id: str) -> list[PlaybookRecord]:
        found = [r for r in self.playbook_records.values() if r.journey_id == journey_id]
        return sorted(found, key=lambda r: (r.at, r.id))
