"""journey language: holdout group and split paths on enrollments, tasks (escalate), webhook calls

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def at(name: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    with op.batch_alter_table("enrollments") as table:
        table.add_column(sa.Column("group", sa.String(), nullable=False, server_default="journey"))
        table.add_column(sa.Column("paths", JSON, nullable=False, server_default="{}"))
    _tasks()
    _webhook_calls()


def _tasks() -> None:
    op.create_table(
        "tasks",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("enrollment_id", sa.String(), nullable=False),
        sa.Column("journey_id", sa.String(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(), nullable=False),
        sa.Column("step_id", sa.String(), nullable=False),
        sa.Column("queue", sa.String(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("priority", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("assignee", sa.String(), nullable=True),
        sa.Column("outcome", sa.String(), nullable=True),
        sa.Column("context", JSON, nullable=False),
        at("due_at"),
        at("created_at"),
        at("resolved_at", nullable=True),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_tasks"),
    )
    op.create_index("ix_tasks_customer_id", "tasks", ["customer_id"])
    op.create_index("ix_tasks_status_due_at", "tasks", ["status", "due_at"])


def _webhook_calls() -> None:
    op.create_table(
        "webhook_calls",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("enrollment_id", sa.String(), nullable=False),
        sa.Column("journey_id", sa.String(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(), nullable=False),
        sa.Column("step_id", sa.String(), nullable=False),
        sa.Column("request", JSON, nullable=False),
        sa.Column("scope", JSON, nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        at("next_attempt_at"),
        at("lease_until", nullable=True),
        sa.Column("response", JSON, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        at("created_at"),
        at("finished_at", nullable=True),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_calls"),
    )
    op.create_index("ix_webhook_calls_customer_id", "webhook_calls", ["customer_id"])
    op.create_index("ix_webhook_calls_status_next_attempt_at", "webhook_calls", ["status", "next_attempt_at"])


def downgrade() -> None:
    op.drop_table("webhook_calls")
    op.drop_table("tasks")
    with op.batch_alter_table("enrollments") as table:
        table.drop_column("paths")
        table.drop_column("group")
