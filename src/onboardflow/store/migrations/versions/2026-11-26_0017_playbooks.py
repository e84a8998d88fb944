"""launch playbooks: the playbook attached to a journey version, and the checkpoints held, the manual
checklist items closed and the retrospective under it

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "playbook_attachments",
        sa.Column("journey_id", sa.String(), nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("playbook_id", sa.String(), nullable=False),
        sa.Column("playbook", JSON, nullable=False),
        sa.Column("post_launch_owner", sa.String(), nullable=False),
        sa.Column("attached_by", sa.String(), nullable=False),
        sa.Column("attached_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("comments", JSON, nullable=False),
        sa.PrimaryKeyConstraint("journey_id", "version", name=op.f("pk_playbook_attachments")),
    )
    op.create_table(
        "playbook_records",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("journey_id", sa.String(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("ref", sa.String(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by", sa.String(), nullable=False),
        sa.Column("detail", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_playbook_records")),
    )
    op.create_index(op.f("ix_playbook_records_journey_id"), "playbook_records", ["journey_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_playbook_records_journey_id"), table_name="playbook_records")
    op.drop_table("playbook_records")
    op.drop_table("playbook_attachments")
