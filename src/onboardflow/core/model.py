"""The records the engine works on: events, customer profiles, enrollments, and what they show to conditions."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from typing import Any

ORDER_COMPLETED = "Order Completed"
PROFILE_FIELDS = ("email", "phone", "locale", "timezone", "country")
HOLDOUT = "holdout"

# Events onboardflow itself emits, so a journey can react to what happened to its own actions.
MESSAGE_UNDELIVERABLE = "Message Undeliverable"  # message_id, enrollment_id, step_id, channel, reason
TASK_RESOLVED = "Task Resolved"  # task_id, enrollment_id, outcome
TASK_OVERDUE = "Task Overdue"  # task_id, enrollment_id, queue, reason, due_at: past its due time, unresolved
PROFILE_UPDATED = "Profile Updated"  # fields, source; its `customer` block is the change (PUT /v1/customers)
WEBHOOK_SUCCEEDED = "Webhook Succeeded"  # call_id, enrollment_id, status, response
WEBHOOK_FAILED = "Webhook Failed"  # call_id, enrollment_id, status, error


@dataclass(frozen=True, slots=True)
class Event:
    """Something a customer did or that happened to them; the same id twice is one event."""

    id: str
    name: str
    customer_id: str
    at: datetime
    properties: dict[str, Any] = field(default_factory=dict)
    customer: dict[str, Any] | None = None

    def scope(self) -> dict[str, Any]:
        """What conditions and templates see as `event` or `trigger`: properties beside name and at."""
        return {**self.properties, "id": self.id, "name": self.name, "at": self.at}


@dataclass(frozen=True, slots=True)
class Customer:
    """A profile: contact fields, traits, consent, and aggregates of the customer's orders."""

    id: str
    email: str | None = None
    phone: str | None = None
    locale: str | None = None
    timezone: str | None = None
    country: str | None = None
    traits: dict[str, Any] = field(default_factory=dict)
    consent: dict[str, Any] = field(default_factory=dict)
    orders_count: int = 0
    total_spent: float = 0.0
    first_order_at: datetime | None = None
    last_order_at: datetime | None = None
    events_count: int = 0  # events applied so far: an event's position in the customer's stream
    updated_at: datetime | None = None

    def scope(self) -> dict[str, Any]:
        """What conditions see as `customer`: traits flattened, with profile fields and aggregates on top."""
        return {
            **self.traits,
            "id": self.id,
            "email": self.email,
            "phone": self.phone,
            "locale": self.locale,
            "timezone": self.timezone,
            "country": self.country,
            "traits": self.traits,
            "consent": self.consent,
            "orders_count": self.orders_count,
            "total_spent": self.total_spent,
            "first_order_at": self.first_order_at,
            "last_order_at": self.last_order_at,
        }


def apply_event(customer: Customer, event: Event) -> Customer:
    """The profile after `event`: its inline identify block merged, order aggregates counted.

    An event that changes nothing in the profile returns the same object, so callers can skip writes.
    """
    block = event.customer
    if not block and event.name != ORDER_COMPLETED:
        return customer
    changes: dict[str, Any] = {"updated_at": event.at}
    if block:
        changes.update({name: block[name] for name in PROFILE_FIELDS if block.get(name) is not None})
        if block.get("traits"):
            changes["traits"] = {**customer.traits, **block["traits"]}
        if block.get("consent"):
            changes["consent"] = {**customer.consent, **block["consent"]}
    if event.name == ORDER_COMPLETED:
        changes.update(_order_aggregates(customer, event))
    return copy_customer(customer, **changes)


def _order_aggregates(customer: Customer, event: Event) -> dict[str, Any]:
    total = event.properties.get("total", 0) or 0
    first = customer.first_order_at
    last = customer.last_order_at
    return {
        "orders_count": customer.orders_count + 1,
        "total_spent": round(customer.total_spent + float(total), 2),
        "first_order_at": event.at if first is None or event.at < first else first,
        "last_order_at": event.at if last is None or event.at > last else last,
    }


def apply_update(
    customer: Customer,
    *,
    set_traits: dict[str, Any] | None = None,
    unset: tuple[str, ...] = (),
    add_tags: tuple[str, ...] = (),
    remove_tags: tuple[str, ...] = (),
    at: datetime | None = None,
) -> Customer:
    """The profile with traits set or removed and tags added or removed (tags live in the `tags` trait)."""
    traits = {**customer.traits, **(set_traits or {})}
    for name in unset:
        traits.pop(name, None)
    if add_tags or remove_tags:
        tags = [tag for tag in traits.get("tags") or [] if tag not in remove_tags]
        tags.extend(tag for tag in add_tags if tag not in tags)
        traits["tags"] = tags
    if traits == customer.traits:
        return customer
    return replace(customer, traits=traits, updated_at=at or customer.updated_at)


@dataclass(frozen=True, slots=True)
class Waiting:
    """What an enrollment waits for: a timer (`wait`, `wait_until`), or events with an optional timeout.

    `ref` names the one thing an event must be about to count: the task of an `escalate`, the call of a
    `webhook` (its `task_id` or `call_id` property).
    """

    step_id: str
    timer_id: str | None = None
    until: datetime | None = None
    events: tuple[str, ...] = ()
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class Visit:
    """One step an enrollment went through, and when."""

    step_id: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Enrollment:
    """One customer's walk through one journey version."""

    id: str
    journey_id: str
    version: int
    customer_id: str
    trigger: dict[str, Any]
    started_at: datetime
    step_id: str | None = None
    waiting: Waiting | None = None
    status: str = "active"
    exit_reason: str | None = None
    ended_at: datetime | None = None
    goal_reached_at: datetime | None = None
    seq: int = 0
    history: tuple[Visit, ...] = ()
    group: str = "journey"  # or "holdout": enrolled and measured, sent nothing
    paths: dict[str, str] = field(default_factory=dict)  # split step id -> the path taken

    @property
    def is_holdout(self) -> bool:
        return self.group == HOLDOUT

    @property
    def is_active(self) -> bool:
        return self.status == "active"


def _copier(cls):
    """`dataclasses.replace` for one frozen, slotted record class, at about 60% of its cost: the engine copies
    enrollments and profiles several times a stimulus, and `replace` matches every field by name and runs the
    frozen `__init__` (one `object.__setattr__` a field, after checks). This function sets each slot of a new
    object straight from the keyword or the record. It is generated, as dataclasses generates `__init__`, so
    each field is a plain parameter; `_KEEP` marks the ones not given. Only for classes without
    `__post_init__`; a wrong keyword is a TypeError, as with `replace`.
    """
    names = [f.name for f in fields(cls)]
    lines = [f"def copy(record, *, {', '.join(f'{name}=_KEEP' for name in names)}):", "    new = _new(_cls)"]
    lines += [f"    _set(new, {name!r}, record.{name} if {name} is _KEEP else {name})" for name in names]
    lines.append("    return new")
    namespace = {"_new": object.__new__, "_set": object.__setattr__, "_cls": cls, "_KEEP": object()}
    exec("\n".join(lines), namespace)  # noqa: S102 (source made above from the class's own field names)
    copy = namespace["copy"]
    copy.__name__ = copy.__qualname__ = f"copy_{cls.__name__.lower()}"
    return copy


copy_customer = _copier(Customer)
copy_enrollment = _copier(Enrollment)
