"""The protocols the engine talks through: Store (and its transactions), DeliveryChannel, Clock.

Each has an in-memory twin shipped in the package, so the engine runs the same on dicts as on SQL.
"""

from __future__ import annotations

import zlib
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from onboardflow.core.consent import ConsentRecord, ConsentState
from onboardflow.core.effects import CallWebhook, OpenTask, ScheduleTimer, SendMessage
from onboardflow.core.journey import Journey
from onboardflow.core.model import Customer, Enrollment, Event
from onboardflow.core.outbound import OutboundDelivery, OutboundEvent, Subscription
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
from onboardflow.messages.content import Delivery

PARTITIONS = 64
ORDER_COMPLETED = "Order Completed"  # the event `Store.customer_of_order` finds an order's customer by


def partition_of(customer_id: str) -> int:
    """The work partition a customer belongs to: all of one customer's work happens in one partition."""
    return zlib.crc32(customer_id.encode()) % PARTITIONS


@dataclass(frozen=True, slots=True)
class QueuedEvent:
    seq: int
    event: Event


@dataclass(frozen=True, slots=True)
class StoredVersion:
    journey_id: str
    version: int
    digest: str
    definition: dict[str, Any]
    source: str | None = None
    created_at: datetime | None = field(default=None, compare=False)  # when this version was stored


@dataclass(frozen=True, slots=True)
class JourneyState:
    """A journey as the engine runs it: which version is live, and whether it is paused (since when)."""

    journey_id: str
    name: str
    live_version: int
    paused_at: datetime | None = None
    rollout_percent: float = 100.0  # the share of triggered customers let in (a phased roll-out)

    @property
    def is_paused(self) -> bool:
        return self.paused_at is not None


@dataclass(frozen=True, slots=True)
class HeldEvent:
    """An event that would have moved an enrollment of a paused journey, kept for when it resumes."""

    journey_id: str
    enrollment_id: str
    customer_id: str
    event_id: str


@dataclass(frozen=True, slots=True)
class Entry:
    """The latest enrollment of a customer in a journey, for re-entry rules."""

    journey_id: str
    customer_id: str
    enrollment_id: str
    started_at: datetime


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """A message in the outbox and what became of it: pending (due at `next_attempt_at`, else at once),
    delivered, skipped, undeliverable or parked; `note` says which policy decided and why."""

    message: SendMessage
    status: str = "pending"
    attempts: int = 0
    channel: str | None = None
    delivered_at: datetime | None = None
    error: str | None = None
    next_attempt_at: datetime | None = None
    provider_id: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Task:
    """A hand-off to people as stored: an `escalate` step's or a rule's OpenTask, with its status, who has
    it, its resolution, whether it went past its due time, and its copy in a helpdesk (`external_id`)."""

    task: OpenTask
    status: str = "open"  # open, assigned, resolved, cancelled
    assignee: str | None = None
    outcome: str | None = None
    resolved_at: datetime | None = None
    assigned_at: datetime | None = None
    overdue_at: datetime | None = None
    external_id: str | None = None
    handed_off_at: datetime | None = None
    handoff_error: str | None = None
    handoff_attempts: int = 0

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def is_overdue(self, now: datetime) -> bool:
        return self.is_open and self.task.due_at <= now


OPEN_STATUSES = ("open", "assigned")
TASK_STATUSES = ("open", "assigned", "resolved", "cancelled")


@dataclass(frozen=True, slots=True)
class WebhookCall:
    """A `webhook` step's call as stored: the CallWebhook and how far it got.

    `pending` until it succeeds or fails for good; `attempts` counts requests made, `next_attempt_at` is
    when the next one is due, `error` says what went wrong last.
    """

    call: CallWebhook
    status: str = "pending"  # pending, succeeded, failed
    attempts: int = 0
    next_attempt_at: datetime | None = None
    response: Any = None
    error: str | None = None
    finished_at: datetime | None = None


CALL_STATUSES = ("pending", "succeeded", "failed")
MESSAGE_STATUSES = ("pending", "delivered", "skipped", "undeliverable", "parked", "cancelled")
TASK_STATUSES = ("open", "assigned", "resolved", "cancelled")

Cursor = tuple[datetime, str]  # where a page ends: the last row's time and id, in the listing's order


class SubscriptionNotFound(LookupError):
    """No outbound webhook subscription has this id."""


class TaskNotFound(LookupError):
    """No task has this id."""


class TaskClosed(ValueError):
    """The task was resolved or cancelled already."""


class TaskTaken(ValueError):
    """Someone else has claimed the task."""


@dataclass(frozen=True, slots=True)
class InboxMessage:
    """One in-app message in a customer's inbox; `read_at` is None until the customer reads it."""

    message_id: str
    customer_id: str
    title: str
    body: str
    purpose: str
    created_at: datetime
    deep_link: str | None = None
    read_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ApiKey:
    """An API key as stored: its public id, what it may do, and the SHA-256 of its secret (never the secret)."""

    id: str
    name: str
    scopes: tuple[str, ...]
    digest: str
    created_at: datetime
    revoked_at: datetime | None = None
    user: str | None = None  # the email of the user the key acts as; None: a service key, no person

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


@dataclass(frozen=True, slots=True)
class User:
    """A person who works on journeys: their roles (`governance.people.ROLES`) and, for the web UI, the
    argon2 hash of their password (None: they have none yet). Emails are kept and compared lower-cased."""

    email: str
    name: str
    roles: tuple[str, ...]
    password_hash: str | None
    created_at: datetime
    disabled: bool = False

    def has_role(self, role: str) -> bool:
        return role in self.roles or "admin" in self.roles


class ApiKeyNotFound(LookupError):
    """No API key has this id."""


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    """An `Idempotency-Key` as kept for one API key: which request first used it, and the answer it got.

    `status` and `body` are None while that request is in flight (since `locked_at`); `fingerprint`
    is the SHA-256 of its method, path and body, so a reuse with another request can be told apart.
    """

    api_key_id: str
    key: str
    fingerprint: str
    created_at: datetime
    locked_at: datetime
    status: int | None = None
    body: str | None = None

    @property
    def is_in_flight(self) -> bool:
        return self.status is None

    def gives_way(self, *, stale_before: datetime, expired_before: datetime) -> bool:
        """Whether a new request may take the key over: this record is past its time to live, or in
        flight for so long that the request holding it must have died (its process killed mid-way)."""
        return self.created_at < expired_before or (self.is_in_flight and self.locked_at < stale_before)


@dataclass(frozen=True, slots=True)
class GoalCounts:
    """One journey's entrants and how many of them reached its goal: the treated group and the holdout."""

    entrants: int = 0
    converted: int = 0
    holdout: int = 0
    holdout_converted: int = 0

    @property
    def rate(self) -> float | None:
        """The treated group's goal rate, from 0 to 1; None before anyone entered."""
        return self.converted / self.entrants if self.entrants else None


@dataclass(frozen=True, slots=True)
class ReportRun:
    """A scheduled report taken on: `id` names the report and its period (`weekly:2026-W10`), so a period's
    report is claimed once however often a worker restarts."""

    id: str
    kind: str
    period: str
    started_at: datetime
    recipients: tuple[str, ...] = ()


@dataclass
class Changes:
    """Everything one batch writes, applied in one transaction."""

    events: list[tuple[Event, int]] = field(default_factory=list)  # with its position in the customer's stream
    customers: dict[str, Customer] = field(default_factory=dict)
    enrollments: dict[str, Enrollment] = field(default_factory=dict)
    entries: dict[tuple[str, str], Entry] = field(default_factory=dict)
    timers: dict[str, ScheduleTimer] = field(default_factory=dict)
    cancelled_timers: set[str] = field(default_factory=set)
    fired_timers: set[str] = field(default_factory=set)
    messages: dict[str, SendMessage] = field(default_factory=dict)
    tasks: dict[str, OpenTask] = field(default_factory=dict)
    calls: dict[str, CallWebhook] = field(default_factory=dict)
    dequeued: list[int] = field(default_factory=list)
    held: list[HeldEvent] = field(default_factory=list)
    consents: list[ConsentRecord] = field(default_factory=list)  # ledger lines the batch's events carry
    outbound: list[OutboundEvent] = field(default_factory=list)  # to the subscriptions that want them

    def __bool__(self) -> bool:
        return any(
            (self.events, self.customers, self.enrollments, self.timers, self.cancelled_timers,
             self.fired_timers, self.messages, self.tasks, self.calls, self.dequeued, self.held,
             self.consents, self.outbound)
        )


@dataclass(frozen=True, slots=True)
class CustomerData:
    """Everything the store holds on one customer, read in one go: what a GDPR export is made of."""

    customer_id: str
    profile: Customer | None
    events: list[tuple[Event, int]]  # processed, with their position in the customer's stream
    queued: list[Event]  # not processed yet
    enrollments: list[Enrollment]
    messages: list[OutboxMessage]
    consents: list[ConsentRecord]
    tasks: list[Task]
    webhook_calls: list[dict[str, Any]]  # as `codec.call_document` shows them: no headers, no secret
    inbox: list[InboxMessage]
    # outbound webhook events about them, oldest first
    webhook_deliveries: list[OutboundDelivery] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return self.profile is None and not any(
            (self.events, self.queued, self.enrollments, self.messages, self.consents, self.tasks,
             self.webhook_calls, self.inbox, self.webhook_deliveries)
        )


@dataclass(frozen=True, slots=True)
class Erasure:
    """That a customer was erased, and when; it names only the pseudonym their remaining rows now carry."""

    id: str
    pseudonym: str
    erased_at: datetime
    counts: dict[str, int]  # rows pseudonymised or removed, by table


class Transaction(Protocol):
    """One unit of work: reads see committed state, `apply` writes, commit on leaving the block."""

    def lock_partitions(self, partitions: Iterable[int]) -> None: ...
    def claim_partitions(self, limit: int) -> list[int]: ...
    def queued_events(self, partitions: Iterable[int], limit: int) -> list[QueuedEvent]: ...
    def known_event_ids(self, ids: Iterable[str]) -> set[str]: ...
    def customers(self, ids: Iterable[str]) -> dict[str, Customer]: ...
    def active_enrollments(self, customer_ids: Iterable[str]) -> list[Enrollment]: ...
    def enrollments(self, ids: Iterable[str]) -> dict[str, Enrollment]: ...
    def entries(self, customer_ids: Iterable[str]) -> dict[tuple[str, str], Entry]: ...
    def due_timers(
        self, partitions: Iterable[int] | None, now: datetime, limit: int, *, excluding: Collection[str] = ()
    ) -> list[ScheduleTimer]: ...
    def next_timer_due(self, *, excluding: Collection[str] = ()) -> datetime | None: ...
    def apply(self, changes: Changes) -> None: ...
    # escalation and scores: open tasks by (customer, reason) -> task id; processed events, in stream order
    def open_tasks(self, customer_ids: Iterable[str]) -> dict[tuple[str, str], str]: ...
    def histories(self, customer_ids: Iterable[str], names: Iterable[str]) -> dict[str, list[Event]]: ...

    # live versions: publishing, migrating, pausing (`excluding` above: the journeys that are paused)
    def journeys(self) -> dict[str, JourneyState]: ...
    def version(self, journey_id: str, version: int) -> StoredVersion | None: ...
    def save_version(
        self, journey: Journey, *, digest: str, source: str | None, now: datetime, live: bool = True
    ) -> StoredVersion: ...
    def set_live(self, journey_id: str, version: int, *, now: datetime) -> JourneyState:
        """Make a stored version the live one (a launch, a roll-back); the roll-out share stays."""
        ...
    def set_rollout(self, journey_id: str, percent: float) -> None: ...
    def set_paused(self, journey_id: str, paused_at: datetime | None) -> None: ...
    def active_enrollments_at(
        self, journey_id: str, version: int, step_ids: Iterable[str], *, after: str | None, limit: int
    ) -> list[Enrollment]: ...
    def held_events(self, journey_id: str) -> list[tuple[str, Event]]: ...
    def release_held(self, journey_id: str) -> None: ...
    def journey_timers_due(self, journey_id: str, now: datetime) -> list[ScheduleTimer]: ...


class Store(Protocol):
    """Where onboardflow keeps everything; memory for tests and simulation, SQL for the rest."""

    def transaction(self) -> AbstractContextManager[Transaction]: ...

    # journeys and their versions
    def save_version(
        self, journey: Journey, *, digest: str, source: str | None, now: datetime, live: bool = True
    ) -> StoredVersion:
        """Store the content. `live`: make it live (the live version itself if the digest is the same).
        Not live: a draft, or the stored version with the same digest, newest first, if there is one."""
        ...
    def live_versions(self) -> list[StoredVersion]: ...
    def version(self, journey_id: str, version: int) -> StoredVersion | None: ...
    def versions(self, journey_id: str) -> list[StoredVersion]: ...  # every stored version, oldest first
    def journeys(self) -> list[JourneyState]: ...
    def held_counts(self) -> dict[str, int]: ...

    # queue and outbox
    def enqueue(self, events: Iterable[Event], *, now: datetime) -> int: ...
    def queue_events(self, events: Iterable[Event], *, now: datetime) -> set[str]:
        """Queue events as `enqueue` does, in one transaction; the ids it queued (not those queued or
        processed before, nor a second of the same id)."""
        ...
    def claim_messages(self, now: datetime, limit: int, *, lease_seconds: int = 60) -> list[OutboxMessage]: ...
    def renew_message_lease(self, message_id: str, *, held_until: datetime, until: datetime) -> bool:
        """Move a pending message's lease from `held_until` (what the claim set) to `until`; False when the
        lease is no longer that one (another worker claimed it after it ran out) or the message is done."""
        ...
    def record_delivery(self, message_id: str, *, status: str, channel: str | None, at: datetime,
                        error: str | None = None, next_attempt_at: datetime | None = None,
                        provider_id: str | None = None, note: str | None = None, counted: bool = True,
                        outbound: Sequence[OutboundEvent] = ()) -> None:
        """What became of one message; `outbound` events (message.sent, message.failed) are fanned out to
        their subscriptions in the same transaction."""
        ...
    def retry_parked(self, message_ids: Iterable[str] | None, *, now: datetime) -> int: ...
    def last_event_times(self, customer_id: str, names: Iterable[str]) -> dict[str, datetime]: ...

    # the in-app inbox: the same message id twice is one message; reading it twice keeps the first time
    def add_to_inbox(self, message: InboxMessage) -> bool: ...
    def inbox(self, customer_id: str, *, unread_only: bool = False) -> list[InboxMessage]: ...
    def mark_read(self, customer_id: str, message_ids: Iterable[str], *, at: datetime) -> int: ...

    # reading, for status, tests and later the API
    def counts(self) -> dict[str, int]: ...
    def step_counts(self) -> list[tuple[str, int, str, str, int]]: ...
    def goal_counts(self) -> dict[str, GoalCounts]:
        """Per journey (every version): enrollments and goals reached, treated and holdout apart."""
        ...
    def step_paths(self, journey_id: str, version: int) -> list[tuple[str, ...]]:
        """The steps each enrollment of this version went through, in order: the traffic on its graph."""
        ...
    def messages(self, customer_id: str | None = None) -> list[OutboxMessage]: ...
    def message(self, message_id: str) -> OutboxMessage | None: ...
    def messages_page(
        self, *, customer_id: str | None = None, status: str | None = None, journey_id: str | None = None,
        channel: str | None = None, after: Cursor | None = None, limit: int = 100,
    ) -> list[OutboxMessage]:
        """Up to `limit` messages in (at, id) order after the cursor `after`; `channel` is the one a
        message went out on (or was skipped or parked on), so pending ones match no channel."""
        ...

    # tasks for people (escalations)
    def tasks(self, *, status: str | None = None, customer_id: str | None = None) -> list[Task]: ...
    def task(self, task_id: str) -> Task | None: ...
    def resolve_task(self, task_id: str, *, outcome: str, at: datetime, by: str | None = None) -> Task: ...
    def claim_task(self, task_id: str, *, assignee: str, at: datetime) -> Task:
        """Assign an open task (TaskTaken if someone else has it, TaskClosed if it is done); claiming it
        again as its assignee changes nothing."""
        ...
    def mark_overdue(self, now: datetime, *, limit: int = 500) -> list[Task]:
        """Open tasks past their due time not marked yet: marked now and made urgent, each once."""
        ...
    def claim_handoffs(self, now: datetime, limit: int, *, lease_seconds: int = 60) -> list[Task]:
        """Open tasks due to be sent to the helpdesk, leased so that one worker sends each."""
        ...
    def record_handoff(self, task_id: str, *, at: datetime, external_id: str | None = None,
                       error: str | None = None, next_attempt_at: datetime | None = None) -> None:
        """Sent (`external_id`), or failed: tried again at `next_attempt_at`, never when it is None."""
        ...

    # history, for the models: processed events by customer in stream order (`names`: only these)
    def history(self, *, names: Iterable[str] | None = None) -> Iterator[Event]: ...
    def customer_history(self, customer_id: str, *, names: Iterable[str] | None = None) -> list[Event]: ...
    def tasks_page(
        self, *, status: str | None = None, customer_id: str | None = None, queue: str | None = None,
        priority: str | None = None, reason: str | None = None, after: Cursor | None = None, limit: int = 100,
    ) -> list[Task]:
        """Up to `limit` tasks in (due_at, id) order, soonest due first, after the cursor `after`; each
        filter given (status, customer, queue, priority, reason) must match."""
        ...

    # webhook calls (the `webhook` step), claimed and recorded like the outbox
    def claim_calls(self, now: datetime, limit: int, *, lease_seconds: int = 60) -> list[WebhookCall]: ...
    def record_call(self, call_id: str, *, status: str, at: datetime, attempts: int,
                    next_attempt_at: datetime | None = None, response: Any = None,
                    error: str | None = None) -> None: ...
    def calls(self, customer_id: str | None = None) -> list[WebhookCall]: ...

    # outbound webhooks: subscriptions to onboardflow's own events, and their deliveries (`Changes.outbound`
    # and `record_delivery(outbound=...)` write deliveries for every enabled subscription that wants them)
    def create_subscription(self, subscription: Subscription) -> Subscription: ...
    def subscriptions(self) -> list[Subscription]: ...
    def subscription(self, subscription_id: str) -> Subscription | None: ...
    def update_subscription(self, subscription: Subscription) -> Subscription:
        """Write the subscription as given (SubscriptionNotFound if it is not there); disabled, its pending
        deliveries fail with the reason: a disabled subscription has none."""
        ...
    def delete_subscription(self, subscription_id: str) -> bool:
        """Remove the subscription and its deliveries; False if there was none."""
        ...
    def add_deliveries(self, deliveries: Iterable[OutboundDelivery]) -> int: ...
    def claim_deliveries(
        self, now: datetime, limit: int, *, lease_seconds: int = 60
    ) -> list[OutboundDelivery]:
        """Lease pending deliveries due by `now`, of enabled subscriptions, oldest due first."""
        ...
    def record_attempt(self, delivery_id: str, *, status: str, at: datetime, attempts: int,
                       next_attempt_at: datetime | None = None, response_status: int | None = None,
                       error: str | None = None) -> bool:
        """What a delivery attempt came to; the lease is given up. False if the delivery is gone."""
        ...
    def deliveries(self, *, status: str | None = None, subscription_id: str | None = None,
                   customer_id: str | None = None, before: Cursor | None = None,
                   limit: int | None = None) -> list[OutboundDelivery]:
        """Deliveries, newest first (by `created_at`, then id); `before` starts after that (time, id)."""
        ...

    # outcomes (docs/outcomes.md): what the KPIs read; scheduled reports, each period's claimed once
    def journey_enrollments(self, journey_id: str | None = None) -> list[Enrollment]:
        """Every enrollment of the journey (of every journey if None), in (started_at, id) order."""
        ...
    def profiles(self, customer_ids: Iterable[str]) -> dict[str, Customer]:
        """The profiles of these customers that exist, by id."""
        ...
    def claim_report_run(self, run: ReportRun) -> bool:
        """Keep `run` unless a run of its id is kept already; True: the caller sends the report. Atomic."""
        ...
    def report_runs(self, kind: str | None = None) -> list[ReportRun]: ...

    def customer(self, customer_id: str) -> Customer | None: ...
    def enrollments_of(self, customer_id: str) -> list[Enrollment]: ...
    def customer_events(self, customer_id: str) -> list[tuple[str, int]]: ...
    def customer_of_order(self, order_id: str) -> str | None:
        """The customer of the first `Order Completed` event (processed, else queued) whose
        properties.order_id is `order_id`: fulfillment and refund webhooks name only the order."""
        ...

    # consent and privacy
    def record_consent(self, record: ConsentRecord) -> bool: ...
    def consents(self, customer_id: str) -> list[ConsentRecord]: ...
    def consent_state(self, customer_id: str) -> ConsentState: ...
    def customer_data(self, customer_id: str) -> CustomerData: ...
    def erase_customer(self, customer_id: str, *, pseudonym: str, now: datetime) -> Erasure | None: ...
    def erasures(self) -> list[Erasure]: ...
    # API keys
    def save_api_key(self, key: ApiKey) -> None: ...
    def api_key(self, key_id: str) -> ApiKey | None: ...
    def api_keys(self) -> list[ApiKey]: ...
    def revoke_api_key(self, key_id: str, *, at: datetime) -> ApiKey: ...

    # review and approval: one governance action's rows in one transaction (audit lines only ever added)
    def record_review(self, changes: ReviewChanges) -> list[AuditEntry]:
        """Write the reviews, comments and risks (insert or replace by id), add the decisions and the audit
        lines; the audit lines as written, numbered in order."""
        ...
    def review(self, journey_id: str, version: int) -> VersionReview | None: ...
    def reviews(self, journey_id: str) -> list[VersionReview]: ...  # by version
    def comments(self, journey_id: str) -> list[Comment]: ...  # oldest first
    def decisions(self, journey_id: str) -> list[Decision]: ...  # the decision log, oldest first
    def risks(self, journey_id: str) -> list[Risk]: ...  # oldest raised first
    def audit_trail(self, journey_id: str | None = None) -> list[AuditEntry]: ...  # in the order written
    # launch playbooks, written through record_review beside their audit lines
    def attachments(self) -> list[PlaybookAttachment]: ...  # by journey and version
    def playbook_records_of(self, journey_id: str) -> list[PlaybookRecord]: ...  # oldest first

    # users (people acting through the CLI, the API's keys and the web UI)
    def save_user(self, user: User) -> None:
        """Insert the user, or replace the one with the same email (compared lower-cased)."""
        ...
    def user(self, email: str) -> User | None: ...
    def users(self) -> list[User]: ...  # by email

    # Idempotency-Key records of the API, per API key
    def claim_idempotency_key(
        self, record: IdempotencyRecord, *, stale_before: datetime, expired_before: datetime
    ) -> IdempotencyRecord | None:
        """Keep `record` (in flight) unless (api key id, key) is kept already: then the kept record,
        except when it was created before `expired_before` or is in flight since before `stale_before`,
        which `record` replaces. None: the caller holds the key and answers the request. Atomic."""
        ...
    def save_idempotent_answer(self, claimed: IdempotencyRecord, *, status: int, body: str) -> None:
        """Keep the answer to the request that claimed the key (not to one that took it over since)."""
        ...
    def release_idempotency_key(self, claimed: IdempotencyRecord) -> None:
        """Forget the key, if `claimed` still holds it: the next request with it is a first one."""
        ...
    def idempotency_record(self, api_key_id: str, key: str) -> IdempotencyRecord | None: ...
    def purge_idempotency_keys(self, *, before: datetime) -> int: ...
    def close(self) -> None: ...


class Clock(Protocol):
    def now(self) -> datetime: ...


class SentimentModel(Protocol):
    """Scores a text's sentiment from -1 (negative) to 1 (positive); loaded at the edge, never in the core."""

    name: str

    def score(self, text: str) -> float: ...


class Scorer(Protocol):
    """Works out a customer's model scores (`score.repeat_purchase`) from their profile and the history of
    the event names in `events`; a score it cannot give (no order yet) is None."""

    names: frozenset[str]
    events: frozenset[str]

    def score(self, customer: Customer, history: list[Event], now: datetime) -> dict[str, float | None]: ...


class Helpdesk(Protocol):
    """Where tasks go for people to work them: a generic signed webhook, a Zendesk-compatible ticket API.

    `open_ticket` returns the helpdesk's id for the task, or raises `HandoffError` saying whether a retry
    can help.
    """

    name: str

    def open_ticket(self, task: Task, context: dict[str, Any]) -> str: ...


class Channel(Protocol):
    """Delivers one message on one channel; returns the provider's id for it.

    The dispatcher's current interface; `DeliveryChannel` replaces it once the dispatcher renders messages.
    """

    name: str

    def can_reach(self, customer: Customer) -> bool: ...
    def deliver(self, message: SendMessage, customer: Customer) -> str: ...


class DeliveryChannel(Protocol):
    """Sends one rendered, addressed message on one channel (email, sms, whatsapp, webhook, in_app ...).

    `address` says where this channel reaches a customer (None: it cannot), so the dispatcher can pick the
    first channel of a step's preference that reaches them. `send` returns the provider's message id, or
    raises `DeliveryError` saying whether a retry can help; never a library's own exception.
    """

    name: str

    def address(self, customer: Customer) -> str | None: ...
    def send(self, delivery: Delivery) -> str: ...


def chunked(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
