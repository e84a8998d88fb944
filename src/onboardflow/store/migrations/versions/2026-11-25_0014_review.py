"""review and approval: users with roles (API keys act as one), each version's review (status,
approval, roll-out), comments, decisions, risks, and the append-only audit trail

Journeys live before this migration were launched without a review: their live versions get a review
row saying so (status live, author `before-review`), so the lifecycle knows them.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIME = sa.DateTime(timezone=True)
SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
REFUSE_CHANGES = """
CREATE FUNCTION audit_trail_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only: % is refused', TG_OP;
END $$;
CREATE TRIGGER audit_trail_append_only BEFORE UPDATE OR DELETE ON audit_trail
    FOR EACH ROW EXECUTE FUNCTION audit_trail_is_append_only();
"""


def upgrade() -> None:
    op.add_column("api_keys", sa.Column("user", sa.String(), nullable=True))
    op.create_table(
        "users",
        sa.Column("email", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("roles", JSON, nullable=False),
        sa.Column("password_hash", sa.String(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("email", name=op.f("pk_users")),
    )
    with op.batch_alter_table("journeys") as table:
        table.add_column(sa.Column("rollout_percent", sa.Float(), nullable=False, server_default="100"))
    _review_tables()
    _backfill_live_versions()
    if op.get_bind().dialect.name == "postgresql":
        op.execute(REFUSE_CHANGES)


def _review_tables() -> None:
    op.create_table(
        "version_reviews",
        sa.Column("journey_id", sa.String(), nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("digest", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("author", sa.String(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        sa.Column("approval", JSON, nullable=True),
        sa.Column("rollout", JSON, nullable=True),
        sa.Column("previous_live", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("journey_id", "version", name=op.f("pk_version_reviews")),
    )
    op.create_table(
        "review_comments",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("journey_id", sa.String(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("author", sa.String(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("step_id", sa.String(), nullable=True),
        sa.Column("decision_id", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_comments")),
    )
    op.create_index(op.f("ix_review_comments_journey_id"), "review_comments", ["journey_id"])
    op.create_table(
        "review_decisions",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("journey_id", sa.String(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("comment_id", sa.String(), nullable=False),
        sa.Column("owner", sa.String(), nullable=False),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.Column("rationale", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.String(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("due", TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_decisions")),
    )
    op.create_index(op.f("ix_review_decisions_journey_id"), "review_decisions", ["journey_id"])
    op.create_table(
        "review_risks",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("journey_id", sa.String(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("risk", sa.Text(), nullable=False),
        sa.Column("impact", sa.String(), nullable=False),
        sa.Column("raised_by", sa.String(), nullable=False),
        sa.Column("raised_at", TIME, nullable=False),
        sa.Column("due_at", TIME, nullable=False),
        sa.Column("owner", sa.String(), nullable=True),
        sa.Column("fallback", sa.Text(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("updated_at", TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_risks")),
    )
    op.create_index(op.f("ix_review_risks_journey_id"), "review_risks", ["journey_id"])
    op.create_table(
        "audit_trail",
        sa.Column("seq", SEQ, autoincrement=True, nullable=False),
        sa.Column("at", TIME, nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("journey_id", sa.String(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("detail", JSON, nullable=False),
        sa.Column("diff", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_trail")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_audit_trail_journey_id"), "audit_trail", ["journey_id"])


def _backfill_live_versions() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT j.id, j.live_version, v.digest, v.created_at, j.updated_at FROM journeys j "
        "JOIN journey_versions v ON v.journey_id = j.id AND v.version = j.live_version"
    )).all()
    reviews = sa.table("version_reviews", *(sa.column(name) for name in (
        "journey_id", "version", "digest", "status", "author", "created_at", "updated_at")))
    for journey_id, version, digest, created_at, updated_at in rows:
        bind.execute(reviews.insert().values(journey_id=journey_id, version=version, digest=digest,
                                             status="live", author="before-review", created_at=created_at,
                                             updated_at=updated_at))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_trail_append_only ON audit_trail")
        op.execute("DROP FUNCTION audit_trail_is_append_only()")
    for table in ("audit_trail", "review_risks", "review_decisions", "review_comments", "version_reviews"):
        op.drop_table(table)
    with op.batch_alter_table("journeys") as table:
        table.drop_column("rollout_percent")
    op.drop_table("users")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("user")
