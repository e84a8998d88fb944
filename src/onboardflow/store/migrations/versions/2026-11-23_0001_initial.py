"""initial: journeys and versions, the event queue, events, customers, enrollments, timers, outbox, partitions

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PARTITIONS = 64  # onboardflow.ports.PARTITIONS at this revision
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def at(name: str, *, nullable: bool = False, **kwargs) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable, **kwargs)


def upgrade() -> None:
    _journeys()
    _queue_and_events()
    _customers_and_enrollments()
    _timers_and_messages()
    _partitions()


def _journeys() -> None:
    op.create_table(
        "journey_versions",
        sa.Column("journey_id", sa.String(), nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("digest", sa.String(), nullable=False),
        sa.Column("definition", JSON, nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        at("created_at"),
        sa.PrimaryKeyConstraint("journey_id", "version", name="pk_journey_versions"),
    )
    op.create_table(
        "journeys",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("live_version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("owner", sa.String(), nullable=False),
        at("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_journeys"),
    )


def _queue_and_events() -> None:
    op.create_table(
        "queue",
        sa.Column("seq", SEQ, autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(), nullable=False),
        sa.Column("customer_id", sa.String(), nullable=False),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        at("enqueued_at"),
        sa.PrimaryKeyConstraint("seq", name="pk_queue"),
        sa.UniqueConstraint("event_id", name="uq_queue_event_id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_queue_partition", "queue", ["partition"])
    op.create_table(
        "events",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("customer_id", sa.String(), nullable=False),
        at("at"),
        sa.Column("properties", JSON, nullable=False),
        sa.Column("customer", JSON, nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        at("processed_at", server_default=sa.func.current_timestamp()),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
    )
    op.create_index("ix_events_customer_id_position", "events", ["customer_id", "position"])


def _customers_and_enrollments() -> None:
    op.create_table(
        "customers",
        sa.Column("id", sa.String(), nullable=False),
        *(
            sa.Column(name, sa.String(), nullable=True)
            for name in ("email", "phone", "locale", "timezone", "country")
        ),
        sa.Column("traits", JSON, nullable=False),
        sa.Column("consent", JSON, nullable=False),
        sa.Column("orders_count", sa.Integer(), nullable=False),
        sa.Column("total_spent", sa.Double(), nullable=False),
        at("first_order_at", nullable=True),
        at("last_order_at", nullable=True),
        sa.Column("events_count", sa.Integer(), nullable=False),
        at("updated_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_customers"),
    )
    op.create_table(
        "enrollments",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("journey_id", sa.String(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(), nullable=False),
        sa.Column("trigger", JSON, nullable=False),
        at("started_at"),
        sa.Column("step_id", sa.String(), nullable=True),
        sa.Column("waiting", JSON, nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("exit_reason", sa.String(), nullable=True),
        at("ended_at", nullable=True),
        at("goal_reached_at", nullable=True),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("history", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_enrollments"),
    )
    op.create_index("ix_enrollments_customer_id_status", "enrollments", ["customer_id", "status"])
    op.create_table(
        "entries",
        sa.Column("journey_id", sa.String(), nullable=False),
        sa.Column("customer_id", sa.String(), nullable=False),
        sa.Column("enrollment_id", sa.String(), nullable=False),
        at("started_at"),
        sa.PrimaryKeyConstraint("journey_id", "customer_id", name="pk_entries"),
    )
    op.create_index("ix_entries_customer_id", "entries", ["customer_id"])


def _timers_and_messages() -> None:
    op.create_table(
        "timers",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("enrollment_id", sa.String(), nullable=False),
        sa.Column("customer_id", sa.String(), nullable=False),
        sa.Column("partition", sa.Integer(), nullable=False),
        at("due_at"),
        sa.PrimaryKeyConstraint("id", name="pk_timers"),
    )
    op.create_index("ix_timers_partition", "timers", ["partition"])
    op.create_index("ix_timers_due_at", "timers", ["due_at"])
    op.create_table(
        "messages",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("enrollment_id", sa.String(), nullable=False),
        sa.Column("journey_id", sa.String(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(), nullable=False),
        sa.Column("step_id", sa.String(), nullable=False),
        sa.Column("channels", JSON, nullable=False),
        sa.Column("template", sa.String(), nullable=False),
        sa.Column("purpose", sa.String(), nullable=False),
        at("at"),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(), nullable=True),
        at("delivered_at", nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        at("lease_until", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_messages"),
    )
    op.create_index("ix_messages_customer_id", "messages", ["customer_id"])
    op.create_index("ix_messages_status_at", "messages", ["status", "at"])


def _partitions() -> None:
    table = op.create_table(
        "partitions",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_partitions"),
    )
    op.bulk_insert(table, [{"id": number} for number in range(PARTITIONS)])


def downgrade() -> None:
    for name in (
        "partitions",
        "messages",
        "timers",
        "entries",
        "enrollments",
        "customers",
        "events",
        "queue",
        "journeys",
        "journey_versions",
    ):
        op.drop_table(name)
