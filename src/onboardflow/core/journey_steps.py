"""The steps of the journey file format: one typed, frozen record per step kind, told apart by its key."""

from __future__ import annotations

import re
from datetime import timedelta
from functools import cached_property
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PlainSerializer,
    Tag,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from onboardflow.core.durations import format_duration, parse_duration

STEP_KINDS = ("send", "wait", "wait_for", "wait_until", "branch", "split", "update", "webhook", "escalate", "exit")
PURPOSES = ("transactional", "education", "engagement", "promotion")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PRIORITIES = ("low", "normal", "high", "urgent")
MAX_WEBHOOK_TIMEOUT = timedelta(seconds=60)

Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^(\d+[smhdw])+$", "examples": ["90m", "36h", "10d"]}),
]
Expression = Annotated[
    str,
    Field(min_length=1, description="A CEL expression over customer, event and trigger"),
]
StepId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=80)]
_CLOCK_TIME = r"^([01]\d|2[0-3]):[0-5]\d$"


def read_clock_time(value: Any) -> Any:
    """A time of day as `HH:MM`, 24-hour. YAML reads a bare 10:00 as the number 600, so a number gets a
    message that says to quote the time rather than one about types."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError('write the time in quotes, e.g. "10:00": without them YAML reads 10:00 as a number')
    if isinstance(value, str) and not re.match(_CLOCK_TIME, value):
        raise ValueError(f'{value!r} is not a time of day: write HH:MM, 24-hour, e.g. "09:30" or "21:00"')
    return value


ClockTime = Annotated[
    str,
    BeforeValidator(read_clock_time),
    WithJsonSchema({"type": "string", "pattern": _CLOCK_TIME, "examples": ["10:00", "21:00"]}),
]


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class StepBase(Record):
    kind: ClassVar[str]  # the step's key in the file: send, wait, wait_for, branch, exit
    id: StepId
    name: str | None = None


class SendSpec(Record):
    channel: str | list[str] = Field(description="A channel, or channels in order of preference")
    template: str = Field(min_length=1)
    purpose: Literal["transactional", "education", "engagement", "promotion"] = "transactional"
    when_capped: Literal["defer", "skip"] = Field(
        default="defer", description="When a frequency cap holds the message: send it once the cap frees, or skip it"
    )

    @property
    def channels(self) -> tuple[str, ...]:
        return (self.channel,) if isinstance(self.channel, str) else tuple(self.channel)

    @field_validator("channel")
    @classmethod
    def _channels_named(cls, value: str | list[str]) -> str | list[str]:
        if not value:
            raise ValueError("name at least one channel, e.g. email")
        return value


class Send(StepBase):
    send: SendSpec
    goto: StepId | None = None
    on_undeliverable: StepId | None = Field(
        default=None, description="Where to go when no channel can deliver (no consent, bounced, invalid number)"
    )

    kind: ClassVar[str] = "send"


class Wait(StepBase):
    wait: Duration
    goto: StepId | None = None

    kind: ClassVar[str] = "wait"


class WaitForArm(Record):
    event: str = Field(min_length=1)
    where: Expression | None = None
    goto: StepId | None = Field(default=None, description="Where this event leads; without it, the next step")


class WaitForSpec(Record):
    """One event (`event`, `where`), or any of several (`events`, each with its own goto)."""

    event: str | None = Field(default=None, min_length=1)
    where: Expression | None = None
    events: list[WaitForArm] = Field(default_factory=list)
    timeout: Duration | None = None

    @model_validator(mode="after")
    def _one_form(self) -> WaitForSpec:
        if (self.event is None) == (not self.events):
            raise ValueError("wait_for takes either event (with where) or events: [{event, where, goto}], not both")
        if self.events and self.where is not None:
            raise ValueError("with events, put each condition in its own entry: events: [{event, where, goto}]")
        return self

    @cached_property  # read at every arrival of an awaited event: built once (pydantic leaves it out of ==)
    def arms(self) -> tuple[WaitForArm, ...]:
        if self.event is not None:
            return (WaitForArm(event=self.event, where=self.where),)
        return tuple(self.events)


class WaitFor(StepBase):
    wait_for: WaitForSpec
    on_timeout: StepId | None = Field(
        default=None, description="Step to go to when the timeout passes; without it the enrollment exits"
    )
    goto: StepId | None = None

    kind: ClassVar[str] = "wait_for"


class WaitUntilSpec(Record):
    time: ClockTime = Field(description="Local time of day in the customer's time zone, e.g. 10:00")
    days: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] = Field(
        default_factory=lambda: list(WEEKDAYS), min_length=1
    )


class WaitUntil(StepBase):
    wait_until: WaitUntilSpec
    goto: StepId | None = None

    kind: ClassVar[str] = "wait_until"


class BranchArm(Record):
    when: Expression
    goto: StepId


class Branch(StepBase):
    branch: list[BranchArm] = Field(min_length=1)
    default: StepId | None = None

    kind: ClassVar[str] = "branch"


class SplitArm(Record):
    weight: float = Field(gt=0, description="A share of customers, relative to the other paths")
    goto: StepId
    name: str | None = Field(default=None, description="The path's name in analytics; the goto if absent")

    @property
    def label(self) -> str:
        return self.name or self.goto


class Split(StepBase):
    split: list[SplitArm] = Field(min_length=2)

    kind: ClassVar[str] = "split"


class UpdateSpec(Record):
    set: dict[str, Any] = Field(default_factory=dict, description="Traits to set")
    unset: list[str] = Field(default_factory=list, description="Traits to remove")
    add_tags: list[str] = Field(default_factory=list)
    remove_tags: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _does_something(self) -> UpdateSpec:
        if not (self.set or self.unset or self.add_tags or self.remove_tags):
            raise ValueError("update needs at least one of set, unset, add_tags, remove_tags")
        if "tags" in self.set or "tags" in self.unset:
            raise ValueError("change tags with add_tags and remove_tags, not set")
        return self


class Update(StepBase):
    update: UpdateSpec
    goto: StepId | None = None

    kind: ClassVar[str] = "update"


class WebhookSpec(Record):
    url: str = Field(description="http(s) URL; Liquid allowed")
    method: Literal["POST", "PUT", "PATCH"] = "POST"
    headers: dict[str, str] = Field(default_factory=dict)
    body: str | None = Field(default=None, description="A Liquid template that renders to JSON")
    secret: str | None = Field(
        default=None, description="Environment variable holding the Standard Webhooks signing secret (whsec_...)"
    )
    timeout: Duration = Field(
        default_factory=lambda: parse_duration("10s"), description="How long to wait for an answer (<= 60s)"
    )
    retries: int = Field(default=3, ge=0, le=10)
    map: dict[str, Expression] = Field(
        default_factory=dict, description="trait -> CEL over response (and customer, trigger), set on success"
    )

    @field_validator("url")
    @classmethod
    def _web_address(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"{value!r} is not a web address: start it with https:// (or http://)")
        return value

    @field_validator("timeout")
    @classmethod
    def _short_timeout(cls, value: timedelta) -> timedelta:
        if value > MAX_WEBHOOK_TIMEOUT:
            limit = format_duration(MAX_WEBHOOK_TIMEOUT)
            raise ValueError(f"timeout is at most {limit}: a worker holds the call while it waits for the "
                             "answer, and retries take over from there (e.g. timeout: 10s)")
        return value


class Webhook(StepBase):
    webhook: WebhookSpec
    goto: StepId | None = None
    on_error: StepId | None = Field(default=None, description="Where to go when the call fails for good")

    kind: ClassVar[str] = "webhook"


class EscalateSpec(Record):
    queue: str = Field(min_length=1)
    reason: str = Field(min_length=1)
    priority: Literal["low", "normal", "high", "urgent"] = "normal"
    due: Duration = Field(default_factory=lambda: parse_duration("48h"))
    context: dict[str, Any] = Field(default_factory=dict, description="Extra context for the person")
    wait: bool = Field(default=False, description="Wait for the task's resolution before going on")
    on_outcome: dict[str, StepId] = Field(default_factory=dict, description="resolution outcome -> step")
    on_overdue: StepId | None = Field(default=None, description="Where to go if the task is not resolved in time")

    @model_validator(mode="after")
    def _paths_need_wait(self) -> EscalateSpec:
        if not self.wait and (self.on_outcome or self.on_overdue):
            raise ValueError("on_outcome and on_overdue need wait: true (without it the journey does not wait)")
        return self


class Escalate(StepBase):
    escalate: EscalateSpec
    goto: StepId | None = None

    kind: ClassVar[str] = "escalate"


class Exit(StepBase):
    exit: Literal["completed", "goal_reached", "exit_rule", "timeout"] = "completed"

    kind: ClassVar[str] = "exit"


def step_kind(value: Any) -> str | None:
    """The kind of a step: the one step key it has (send, wait, wait_for, branch, split, ...)."""
    if isinstance(value, StepBase):
        return value.kind
    if isinstance(value, dict):
        found = [kind for kind in STEP_KINDS if kind in value]
        return found[0] if len(found) == 1 else None
    return None


Step = Annotated[
    Annotated[Send, Tag("send")]
    | Annotated[Wait, Tag("wait")]
    | Annotated[WaitFor, Tag("wait_for")]
    | Annotated[WaitUntil, Tag("wait_until")]
    | Annotated[Branch, Tag("branch")]
    | Annotated[Split, Tag("split")]
    | Annotated[Update, Tag("update")]
    | Annotated[Webhook, Tag("webhook")]
    | Annotated[Escalate, Tag("escalate")]
    | Annotated[Exit, Tag("exit")],
    Discriminator(
        step_kind,
        custom_error_type="step_kind",
        custom_error_message=f"a step needs an id and exactly one of: {', '.join(STEP_KINDS)}",
    ),
]
WAITING_KINDS = (Wait, WaitFor, WaitUntil)  # steps that always end a stimulus's run
