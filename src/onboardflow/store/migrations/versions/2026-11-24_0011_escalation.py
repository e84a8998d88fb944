"""escalation: tasks opened by rules (no journey, enrollment or step), claims, overdue marks, hand-off

Revision ID: 0011
Revises: 0007
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ORIGIN = (
    ("enrollment_id", sa.String()),
    ("journey_id", sa.String()),
    ("version", sa.Integer()),
    ("step_id", sa.String()),
)


def upgrade() -> None:
    with op.batch_alter_table("tasks") as table:
        for name, kind in ORIGIN:
            table.alter_column(name, existing_type=kind, nullable=True)
        table.add_column(sa.Column("rule", sa.String(), nullable=True))
        table.add_column(sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=True))
        table.add_column(sa.Column("overdue_at", sa.DateTime(timezone=True), nullable=True))
        table.add_column(sa.Column("external_id", sa.String(), nullable=True))
        table.add_column(sa.Column("handed_off_at", sa.DateTime(timezone=True), nullable=True))
        table.add_column(sa.Column("handoff_due_at", sa.DateTime(timezone=True), nullable=True))
        table.add_column(sa.Column("handoff_attempts", sa.Integer(), nullable=False, server_default="0"))
        table.add_column(sa.Column("handoff_error", sa.Text(), nullable=True))
        table.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
        table.create_index(op.f("ix_tasks_customer_id_status"), ["customer_id", "status"])


def downgrade() -> None:
    with op.batch_alter_table("tasks") as table:
        table.drop_index(op.f("ix_tasks_customer_id_status"))
        for name in (
            "lease_until",
            "handoff_error",
            "handoff_attempts",
            "handoff_due_at",
            "handed_off_at",
            "external_id",
            "overdue_at",
            "assigned_at",
            "rule",
        ):
            table.drop_column(name)
        for name, kind in ORIGIN:
            table.alter_column(name, existing_type=kind, nullable=False)
