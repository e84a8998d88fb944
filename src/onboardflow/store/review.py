"""The SQL side of review and approval: one write of a governance action's rows (reviews, comments,
decisions, risks, audit lines) in one transaction, and the reads. The audit trail is only inserted into:
nothing here updates or deletes it (and on PostgreSQL a trigger refuses either)."""

from __future__ import annotations

import dataclasses
from typing import Any

import sqlalchemy as sa

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
from onboardflow.store.schema import (
    audit_trail,
    playbook_attachments,
    playbook_records,
    review_comments,
    review_decisions,
    review_risks,
    version_reviews,
)
from onboardflow.store.statements import dialect_insert

TABLES = (
    (version_reviews, VersionReview, ("journey_id", "version")),
    (review_comments, Comment, ("id",)),
    (review_risks, Risk, ("id",)),
    (playbook_attachments, PlaybookAttachment, ("journey_id", "version")),
)


def write(connection: sa.Connection, changes: ReviewChanges) -> list[AuditEntry]:
    """Upsert the reviews, comments and risks; insert the decisions and audit lines (which never change).
    The audit lines as written, with their sequence numbers."""
    for (table, _, keys), rows in zip(
        TABLES, (changes.reviews, changes.comments, changes.risks, changes.attachments), strict=True
    ):
        for record in rows:
            row = dataclasses.asdict(record)
            insert = dialect_insert(connection.dialect.name, table).values(row)
            changed = {name: insert.excluded[name] for name in row if name not in keys}
            connection.execute(insert.on_conflict_do_update(index_elements=list(keys), set_=changed))
    for decision in changes.decisions:
        connection.execute(sa.insert(review_decisions).values(dataclasses.asdict(decision)))
    for record in changes.playbook_records:
        connection.execute(sa.insert(playbook_records).values(dataclasses.asdict(record)))
    written = []
    for entry in changes.audit:
        row = {name: value for name, value in dataclasses.asdict(entry).items() if name != "seq"}
        seq = connection.execute(sa.insert(audit_trail).values(row).returning(audit_trail.c.seq)).scalar_one()
        written.append(dataclasses.replace(entry, seq=seq))
    return written


def reviews(connection: sa.Connection, journey_id: str) -> list[VersionReview]:
    query = sa.select(version_reviews).where(version_reviews.c.journey_id == journey_id)
    return _records(connection, query.order_by(version_reviews.c.version), VersionReview)


def rows_of(connection: sa.Connection, table: sa.Table, record: type, journey_id: str) -> list[Any]:
    """A journey's comments, decisions or risks, oldest first."""
    time = table.c.raised_at if table is review_risks else table.c.created_at
    query = sa.select(table).where(table.c.journey_id == journey_id).order_by(time, table.c.id)
    return _records(connection, query, record)


def attachments(connection: sa.Connection) -> list[PlaybookAttachment]:
    query = sa.select(playbook_attachments).order_by(playbook_attachments.c.journey_id,
                                                     playbook_attachments.c.version)
    return _records(connection, query, PlaybookAttachment)


def records_of(connection: sa.Connection, journey_id: str) -> list[PlaybookRecord]:
    query = sa.select(playbook_records).where(playbook_records.c.journey_id == journey_id)
    return _records(connection, query.order_by(playbook_records.c.at, playbook_records.c.id), PlaybookRecord)


def trail(connection: sa.Connection, journey_id: str | None) -> list[AuditEntry]:
    query = sa.select(audit_trail).order_by(audit_trail.c.seq)
    if journey_id is not None:
        query = query.where(audit_trail.c.journey_id == journey_id)
    return _records(connection, query, AuditEntry)


def _records(connection: sa.Connection, query: sa.Select, record: type) -> list[Any]:
    return [record(**row) for row in connection.execute(query).mappings()]


KINDS = {
    "comments": (review_comments, Comment),
    "decisions": (review_decisions, Decision),
    "risks": (review_risks, Risk),
}
