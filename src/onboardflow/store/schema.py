"""The SQL schema, one MetaData for SQLite and PostgreSQL; Alembic migrations must build exactly this.

Times are stored in UTC and read back as aware UTC datetimes on both databases (`UtcDateTime`).
JSON columns go through the engine's serializer (`codec.dumps` / `codec.loads`), which keeps datetimes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


class UtcDateTime(sa.TypeDecorator[datetime]):
    """An aware datetime in, the same instant as an aware UTC datetime out, on every database."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"{value!r} has no time zone: onboardflow stores aware times (UTC)")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def Document() -> sa.types.TypeEngine[Any]:  # noqa: N802 - reads as a column type
    """A JSON document: JSON on SQLite, JSONB on PostgreSQL."""
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def Seq() -> sa.types.TypeEngine[int]:  # noqa: N802 - reads as a column type
    """A 64-bit counter; SQLite needs exactly INTEGER for an autoincrementing primary key."""
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)

journey_versions = sa.Table(
    "journey_versions",
    metadata,
    sa.Column("journey_id", sa.String(), primary_key=True),
    sa.Column("version", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("digest", sa.String(), nullable=False),
    sa.Column("definition", Document(), nullable=False),
    sa.Column("source", sa.Text(), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
)

journeys = sa.Table(
    "journeys",
    metadata,
    sa.Column("id", sa.String(), primary_key=True),
    sa.Column("live_version", sa.Integer(), nullable=False),
    sa.Column("name", sa.String(), nullable=False),
    sa.Column("owner", sa.String(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Column("paused_at", UtcDateTime(), nullable=True),  # set while paused: no entries, nobody moves
    # the share (%) of triggered customers let in: a phased roll-out (docs/review.md)
    sa.Column("rollout_percent", sa.Float(), nullable=False, server_default="100"),
)

queue = sa.Table(
    "queue",
    metadata,
    sa.Column("seq", Seq(), primary_key=True, autoincrement=True),
    sa.Column("event_id", sa.String(), nullable=False, unique=True),
    sa.Column("customer_id", sa.String(), nullable=False),
    sa.Column("partition", sa.Integer(), nullable=False, index=True),
    sa.Column("payload", Document(), nullable=False),
    sa.Column("enqueued_at", UtcDateTime(), nullable=False),
    sqlite_autoincrement=True,  # a seq is never reused, as in the memory store
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("id", sa.String(), primary_key=True),
    sa.Column("name", sa.String(), nullable=False),
    sa.Column("customer_id", sa.String(), nullable=False),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Column("properties", Document(), nullable=False),
    sa.Column("customer", Document(), nullable=True),
    sa.Column("position", sa.Integer(), nullable=False),
    # when the row was written, by the database's clock: Changes carry no `now`
    sa.Column("processed_at", UtcDateTime(), nullable=False, server_default=sa.func.current_timestamp()),
    sa.Index(None, "customer_id", "position"),
)

customers = sa.Table(
    "customers",
    metadata,
    sa.Column("id", sa.String(), primary_key=True),
    sa.Column("email", sa.String(), nullable=True),
    sa.Column("phone", sa.String(), nullable=True),
    sa.Column("locale", sa.String(), nullable=True),
    sa.Column("timezone", sa.String(), nullable=True),
    sa.Column("country", sa.String(), nullable=True),
    sa.Column("traits", Document(), nullable=False),
    sa.Column("consent", Document(), nullable=False),
    sa.Column("orders_count", sa.Integer(), nullable=False),
    sa.Column("total_spent", sa.Double(), nullable=False),
    sa.Column("first_order_at", UtcDateTime(), nullable=True),
    sa.Column("last_order_at", UtcDateTime(), nullable=True),
    sa.Column("events_count", sa.Integer(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=True),
)

enrollments = sa.Table(
    "enrollments",
    metadata,
    sa.Column("id", sa.String(), primary_key=True),
    sa.Column("journey_id", sa.String(), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("customer_id", sa.String(), nullable=False),
    sa.Column("trigger", Document(), nullable=False),
    sa.Column("started_at", UtcDateTime(), nullable=False),
    sa.Column("step_id", sa.String(), nullable=True),
    sa.Column("waiting", Document(), nullable=True),
    sa.Column("status", sa.String(), nullable=False),
    sa.Column("exit_reason", sa.String(), nullable=True),
    sa.Column("ended_at", UtcDateTime(), nullable=True),
    sa.Column("goal_reached_at", UtcDateTime(), nullable=True),
    sa.Column("seq", sa.Integer(), nullable=False),
    sa.Column("history", Document(), nullable=False),
    sa.Column("group", sa.String(), nullable=False, server_default="journey"),
    sa.Column("paths", Document(), nullable=False, server_default="{}"),
    sa.Index(None, "customer_id", "status"),
    sa.Index(None, "journey_id", "started_at"),  # the KPIs read one journey's enrollments
)

entries = sa.Table(
    "entries",
    metadata,
    sa.Column("journey_id", sa.String(), primary_key=True),
    sa.Column("customer_id", sa.String(), primary_key=True, index=True),
    sa.Column("enrollment_id", sa.String(), nullable=False),
    sa.Column("started_at", UtcDateTime(), nullable=False),
)

timers = sa.Table(
    "timers",
    metadata,
    sa.Column("id", sa.String(), primary_key=True),
    sa.Column("enrollment_id", sa.String(), nullable=False),
    sa.Column("customer_id", sa.String(), nullable=False),
    sa.Column("partition", sa.Integer(), nullable=False, index=True),
    sa.Column("due_at", UtcDateTime(), nullable=False, index=True),
    sa.Column("journey_id", sa.String(), nullable=False),  # a paused journey's timers are left out
)

held_events = sa.Table(
    "held_events",
    metadata,
    # events that would have moved an enrollment of a paused journey, applied when it resumes
    sa.Column("enrollment_id", sa.String(), primary_key=True),
    sa.Column("event_id", sa.String(), primary_key=True),
    sa.Column("journey_id", sa.String(), nullable=False, index=True),
    sa.Column("customer_id", sa.String(), nullable=False),
)

messages = sa.Table(
    "messages",
    metadata,
    sa.Column("id", sa.String(), primary_key=True),
    sa.Column("enrollment_id", sa.String(), nullable=False),
    sa.Column("journey_id", sa.String(), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("customer_id", sa.String(), nullable=False, index=True),
    sa.Column("step_id", sa.String(), nullable=False),
    sa.Column("channels", Document(), nullable=False),
    sa.Column("template", sa.String(), nullable=False),
    sa.Column("purpose", sa.String(), nullable=False),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Column("partition", sa.Integer(), nullable=False),
    sa.Column("status", sa.String(), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("channel", sa.String(), nullable=True),
    sa.Column("delivered_at", UtcDateTime(), nullable=True),
    sa.Column("error", sa.Text(), nullable=True),
    sa.Column("lease_until", UtcDateTime(), nullable=True),
    sa.Column("next_attempt_at", UtcDateTime(), nullable=True),  # deferred, held or retried: not before
    sa.Column("provider_id", sa.String(), nullable=True),
    sa.Column("note", sa.Text(), nullable=True),  # the policy that decided, and why
    sa.Index(None, "status", "at"),
)

tasks = sa.Table(
    "tasks",
    metadata,
    sa.Column("id", sa.String(), primary_key=True),
    # an escalate step's task names its enrollment, journey and step; a global rule's names none
    sa.Column("enrollment_id", sa.String(), nullable=True),
    sa.Column("journey_id", sa.String(), nullable=True),
    sa.Column("version", sa.Integer(), nullable=True),
    sa.Column("customer_id", sa.String(), nullable=False, index=True),
    sa.Column("step_id", sa.String(), nullable=True),
    sa.Column("queue", sa.String(), nullable=False),
    sa.Column("reason", sa.String(), nullable=False),
    sa.Column("priority", sa.String(), nullable=False),
    sa.Column("status", sa.String(), nullable=False),
    sa.Column("assignee", sa.String(), nullable=True),
    sa.Column("outcome", sa.String(), nullable=True),
    sa.Column("context", Document(), nullable=False),
    sa.Column("due_at", UtcDateTime(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("resolved_at", UtcDateTime(), nullable=True),
    sa.Column("partition", sa.Integer(), nullable=False),
    sa.Column("rule", sa.String(), nullable=True),  # the escalation rule that opened it (None: a step did)
    sa.Column("assigned_at", UtcDateTime(), nullable=True),
    sa.Column("overdue_at", UtcDateTime(), nullable=True),  # when it was found past its due time
    # the helpdesk hand-off: due at handoff_due_at (None: nothing to send), the helpdesk's id once sent
    sa.Column("external_id", sa.String(), nullable=True),
    sa.Column("handed_off_at", UtcDateTime(), nullable=True),
    sa.Column("handoff_due_at", UtcDateTime(), nullable=True),
    sa.Column("handoff_attempts", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("handoff_error", sa.Text(), nullable=True),
    sa.Column("lease_until", UtcDateTime(), nullable=True),
    sa.Index(None, "status", "due_at"),
    sa.Index(None, "customer_id", "status"),
)

webhook_calls = sa.Table(
    "webhook_calls",
    metadata,
    sa.Column("id", sa.String(), primary_key=True),
    sa.Column("enrollment_id", sa.String(), nullable=False),
    sa.Column("journey_id", sa.String(), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("customer_id", sa.String(), nullable=False, index=True),
    sa.Column("step_id", sa.String(), nullable=False),
    sa.Column("request", Document(), nullable=False),  # url, method, headers, body, secret, timeout, retries
    sa.Column("scope", Document(), nullable=False),  # what the body's template sees
    sa.Column("status", sa.String(), nullable=False),  # pending, succeeded, failed
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("next_attempt_at", UtcDateTime(), nullable=False),
    sa.Column("lease_until", UtcDateTime(), nullable=True),
    sa.Column("response", Document(), nullable=True),
    sa.Column("error", sa.Text(), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("finished_at", UtcDateTime(), nullable=True),
    sa.Column("partition", sa.Integer(), nullable=False),
    sa.Index(None, "status", "next_attempt_at"),
)

partitions = sa.Table(
    "partitions",
    metadata,
    # one row per work partition (0 .. PARTITIONS-1), written by the migration; workers lock these rows
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
)

inbox = sa.Table(
    "inbox",
    metadata,
    # in-app messages, read later through the API; the message id makes a second delivery a no-op
    sa.Column("message_id", sa.String(), primary_key=True),
    sa.Column("customer_id", sa.String(), nullable=False),
    sa.Column("title", sa.Text(), nullable=False),
    sa.Column("body", sa.Text(), nullable=False),
    sa.Column("deep_link", sa.Text(), nullable=True),
    sa.Column("purpose", sa.String(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("read_at", UtcDateTime(), nullable=True),
    sa.Index(None, "customer_id", "created_at"),
)

consents = sa.Table(
    "consents",
    metadata,
    # the ledger: rows are only ever added (an erasure pseudonymises them and clears their evidence)
    sa.Column("seq", Seq(), primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(), nullable=False, unique=True),
    sa.Column("customer_id", sa.String(), nullable=False),
    sa.Column("channel", sa.String(), nullable=False),
    sa.Column("purpose", sa.String(), nullable=False),
    sa.Column("status", sa.String(), nullable=False),
    sa.Column("source", sa.String(), nullable=False),
    sa.Column("text_version", sa.String(), nullable=True),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Column("evidence", Document(), nullable=False),
    # when the row was written, by the database's clock, beside when the customer said it (`at`)
    sa.Column("recorded_at", UtcDateTime(), nullable=False, server_default=sa.func.current_timestamp()),
    sa.Index(None, "customer_id", "at"),
    sqlite_autoincrement=True,
)

erasures = sa.Table(
    "erasures",
    metadata,
    # one row per erased customer, naming only the pseudonym their remaining rows carry
    sa.Column("id", sa.String(), primary_key=True),
    sa.Column("pseudonym", sa.String(), nullable=False),
    sa.Column("erased_at", UtcDateTime(), nullable=False),
    sa.Column("counts", Document(), nullable=False),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    # the secret itself is never stored: only its SHA-256, compared in constant time
    sa.Column("id", sa.String(), primary_key=True),
    sa.Column("name", sa.String(), nullable=False),
    sa.Column("scopes", Document(), nullable=False),
    sa.Column("digest", sa.String(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("revoked_at", UtcDateTime(), nullable=True),
    sa.Column("user", sa.String(), nullable=True),  # the email of the user the key acts as
)

users = sa.Table(
    "users",
    metadata,
    # people: their roles, and the argon2 hash of their password (never the password)
    sa.Column("email", sa.String(), primary_key=True),  # lower-cased
    sa.Column("name", sa.String(), nullable=False),
    sa.Column("roles", Document(), nullable=False),
    sa.Column("password_hash", sa.String(), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("disabled", sa.Boolean(), nullable=False),
)

webhook_subscriptions = sa.Table(
    "webhook_subscriptions",
    metadata,
    # outbound webhooks: endpoints that want some of onboardflow's own events (docs/outbound-webhooks.md)
    sa.Column("id", sa.String(), primary_key=True),
    sa.Column("url", sa.Text(), nullable=False),
    sa.Column("events", Document(), nullable=False),  # event types, or ["*"]
    sa.Column("secret", sa.String(), nullable=False),  # whsec_…: the deliverer signs with it
    sa.Column("description", sa.Text(), nullable=False),
    sa.Column("enabled", sa.Boolean(), nullable=False),
    sa.Column("disabled_reason", sa.Text(), nullable=True),
    sa.Column("disabled_at", UtcDateTime(), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    # the secret a rotation replaced: deliveries are signed with it too until previous_secret_until
    sa.Column("previous_secret", sa.String(), nullable=True),
    sa.Column("previous_secret_until", UtcDateTime(), nullable=True),
)

webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    # one event on its way to one subscription; its id is the webhook-id the receiver sees
    sa.Column("id", sa.String(), primary_key=True),
    sa.Column("subscription_id", sa.String(), nullable=False, index=True),
    sa.Column("event_id", sa.String(), nullable=False),
    sa.Column("event_type", sa.String(), nullable=False),
    sa.Column("customer_id", sa.String(), nullable=True, index=True),
    sa.Column("body", sa.Text(), nullable=False),  # the JSON sent, the same bytes on every attempt
    sa.Column("status", sa.String(), nullable=False),  # pending, delivered, failed
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("next_attempt_at", UtcDateTime(), nullable=True),
    sa.Column("lease_until", UtcDateTime(), nullable=True),
    sa.Column("response_status", sa.Integer(), nullable=True),
    sa.Column("error", sa.Text(), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("finished_at", UtcDateTime(), nullable=True),
    sa.Index(None, "status", "next_attempt_at", "id"),  # the claim's order, whole: no sort of the backlog
)

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    # the API's Idempotency-Key per API key: the request that first used it and its answer, kept 24 h
    sa.Column("api_key_id", sa.String(), primary_key=True),
    sa.Column("key", sa.String(), primary_key=True),
    sa.Column("fingerprint", sa.String(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False, index=True),
    sa.Column("locked_at", UtcDateTime(), nullable=False),
    sa.Column("status", sa.Integer(), nullable=True),  # null while the first request is in flight
    sa.Column("body", sa.Text(), nullable=True),
)

report_runs = sa.Table(
    "report_runs",
    metadata,
    # a scheduled report taken on: its id is the report and its period (weekly:2026-W10), so it goes once
    sa.Column("id", sa.String(), primary_key=True),
    sa.Column("kind", sa.String(), nullable=False),
    sa.Column("period", sa.String(), nullable=False),
    sa.Column("started_at", UtcDateTime(), nullable=False),
    sa.Column("recipients", Document(), nullable=False),
)


# review and approval (docs/review.md): each version's place in its lifecycle, its comments, decisions,
# risks, and the audit trail (rows only ever added; on PostgreSQL a trigger refuses UPDATE and DELETE)

version_reviews = sa.Table(
    "version_reviews",
    metadata,
    sa.Column("journey_id", sa.String(), primary_key=True),
    sa.Column("version", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("digest", sa.String(), nullable=False),
    sa.Column("status", sa.String(), nullable=False),
    sa.Column("author", sa.String(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Column("approval", Document(), nullable=True),
    sa.Column("rollout", Document(), nullable=True),
    sa.Column("previous_live", sa.Integer(), nullable=True),
)

review_comments = sa.Table(
    "review_comments",
    metadata,
    sa.Column("id", sa.String(), primary_key=True),
    sa.Column("journey_id", sa.String(), nullable=False, index=True),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("kind", sa.String(), nullable=False),
    sa.Column("body", sa.Text(), nullable=False),
    sa.Column("author", sa.String(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("step_id", sa.String(), nullable=True),
    sa.Column("decision_id", sa.String(), nullable=True),
)

review_decisions = sa.Table(
    "review_decisions",
    metadata,
    sa.Column("id", sa.String(), primary_key=True),
    sa.Column("journey_id", sa.String(), nullable=False, index=True),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("comment_id", sa.String(), nullable=False),
    sa.Column("owner", sa.String(), nullable=False),
    sa.Column("outcome", sa.String(), nullable=False),
    sa.Column("rationale", sa.Text(), nullable=False),
    sa.Column("decided_by", sa.String(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("due", UtcDateTime(), nullable=True),
)

review_risks = sa.Table(
    "review_risks",
    metadata,
    sa.Column("id", sa.String(), primary_key=True),
    sa.Column("journey_id", sa.String(), nullable=False, index=True),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("risk", sa.Text(), nullable=False),
    sa.Column("impact", sa.String(), nullable=False),
    sa.Column("raised_by", sa.String(), nullable=False),
    sa.Column("raised_at", UtcDateTime(), nullable=False),
    sa.Column("due_at", UtcDateTime(), nullable=False),
    sa.Column("owner", sa.String(), nullable=True),
    sa.Column("fallback", sa.Text(), nullable=True),
    sa.Column("status", sa.String(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=True),
)

audit_trail = sa.Table(
    "audit_trail",
    metadata,
    sa.Column("seq", Seq(), primary_key=True, autoincrement=True),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Column("actor", sa.String(), nullable=False),
    sa.Column("action", sa.String(), nullable=False),
    sa.Column("journey_id", sa.String(), nullable=False, index=True),
    sa.Column("version", sa.Integer(), nullable=True),
    sa.Column("detail", Document(), nullable=False),
    sa.Column("diff", sa.Text(), nullable=True),
    sqlite_autoincrement=True,
)

# launch playbooks (docs/playbooks.md): the playbook attached to a version, and what the team did under it

playbook_attachments = sa.Table(
    "playbook_attachments",
    metadata,
    sa.Column("journey_id", sa.String(), primary_key=True),
    sa.Column("version", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("playbook_id", sa.String(), nullable=False),
    sa.Column("playbook", Document(), nullable=False),
    sa.Column("post_launch_owner", sa.String(), nullable=False),
    sa.Column("attached_by", sa.String(), nullable=False),
    sa.Column("attached_at", UtcDateTime(), nullable=False),
    sa.Column("comments", Document(), nullable=False),
)

playbook_records = sa.Table(
    "playbook_records",
    metadata,
    sa.Column("id", sa.String(), primary_key=True),
    sa.Column("journey_id", sa.String(), nullable=False, index=True),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("kind", sa.String(), nullable=False),
    sa.Column("ref", sa.String(), nullable=False),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Column("by", sa.String(), nullable=False),
    sa.Column("detail", Document(), nullable=False),
)
