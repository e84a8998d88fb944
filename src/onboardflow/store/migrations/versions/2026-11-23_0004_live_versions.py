"""live versions: journeys can be paused, timers know their journey, events held for paused journeys

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("journeys") as table:
        table.add_column(sa.Column("paused_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("timers", sa.Column("journey_id", sa.String(), nullable=True))
    # a timer's journey is its enrollment's; a timer without one can never fire usefully, so any value does
    op.execute(
        "UPDATE timers SET journey_id = COALESCE("
        "(SELECT enrollments.journey_id FROM enrollments WHERE enrollments.id = timers.enrollment_id), '')"
    )
    with op.batch_alter_table("timers") as table:
        table.alter_column("journey_id", existing_type=sa.String(), nullable=False)
    op.create_table(
        "held_events",
        sa.Column("enrollment_id", sa.String(), nullable=False),
        sa.Column("event_id", sa.String(), nullable=False),
        sa.Column("journey_id", sa.String(), nullable=False),
        sa.Column("customer_id", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("enrollment_id", "event_id", name="pk_held_events"),
    )
    op.create_index("ix_held_events_journey_id", "held_events", ["journey_id"])


def downgrade() -> None:
    op.drop_table("held_events")
    with op.batch_alter_table("timers") as table:
        table.drop_column("journey_id")
    with op.batch_alter_table("journeys") as table:
        table.drop_column("paused_at")
