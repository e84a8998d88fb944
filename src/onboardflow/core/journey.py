"""The journey file format: typed, frozen records that a YAML or JSON document is read into."""

from __future__ import annotations

import re
from datetime import timedelta
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
)

from onboardflow.core.durations import format_duration, parse_duration

STEP_KINDS = ("send", "wait", "wait_for", "branch", "exit")
PURPOSES = ("transactional", "education", "engagement", "promotion")
EXIT_REASONS = ("completed", "goal_reached", "exit_rule", "timeout")

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
ClockTime = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", examples=["21:00"])]


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Trigger(Record):
    event: str = Field(min_length=1, description="The event name that starts an enrollment")
    where: Expression | None = None


class EventRule(Record):
    event: str = Field(min_length=1)
    where: Expression | None = None


class Goal(EventRule):
    within: Duration | None = None


class QuietHours(Record):
    start: ClockTime = Field(alias="from")
    end: ClockTime = Field(alias="to")


class FrequencyCap(Record):
    max: int = Field(ge=1)
    per: Duration


class Policies(Record):
    quiet_hours: QuietHours | None = None
    frequency_cap: FrequencyCap | None = None
    no_promotion_before: str | None = None


class StepBase(Record):
    kind: ClassVar[str]  # the step's key in the file: send, wait, wait_for, branch, exit
    id: StepId
    name: str | None = None


class SendSpec(Record):
    channel: str | list[str] = Field(description="A channel, or channels in order of preference")
    template: str = Field(min_length=1)
    purpose: Literal["transactional", "education", "engagement", "promotion"] = "transactional"

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

    kind: ClassVar[str] = "send"


class Wait(StepBase):
    wait: Duration
    goto: StepId | None = None

    kind: ClassVar[str] = "wait"


class WaitForSpec(Record):
    event: str = Field(min_length=1)
    where: Expression | None = None
    timeout: Duration | None = None


class WaitFor(StepBase):
    wait_for: WaitForSpec
    on_timeout: StepId | None = Field(
        default=None, description="Step to go to when the timeout passes; without it the enrollment exits"
    )
    goto: StepId | None = None

    kind: ClassVar[str] = "wait_for"


class BranchArm(Record):
    when: Expression
    goto: StepId


class Branch(StepBase):
    branch: list[BranchArm] = Field(min_length=1)
    default: StepId | None = None

    kind: ClassVar[str] = "branch"


class Exit(StepBase):
    exit: Literal["completed", "goal_reached", "exit_rule", "timeout"] = "completed"

    kind: ClassVar[str] = "exit"


def step_kind(value: Any) -> str | None:
    """The kind of a step: the one step key it has (send, wait, wait_for, branch, exit)."""
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
    | Annotated[Branch, Tag("branch")]
    | Annotated[Exit, Tag("exit")],
    Discriminator(
        step_kind,
        custom_error_type="step_kind",
        custom_error_message="a step needs an id and exactly one of: send, wait, wait_for, branch, exit",
    ),
]


class Journey(Record):
    """A journey definition as its author writes it."""

    id: StepId
    name: str = Field(min_length=1)
    owner: str = Field(min_length=1, description="The one person who decides to launch")
    description: str | None = None
    trigger: Trigger
    audience: Expression | None = None
    reentry: str = Field(default="never", description="never | always | after DURATION (e.g. after 90d)")
    exit_when: list[EventRule] = Field(default_factory=list)
    goal: Goal | None = None
    policies: Policies = Field(default_factory=Policies)
    steps: list[Step] = Field(min_length=1)
    acceptance: list[str] = Field(default_factory=list)

    @field_validator("reentry")
    @classmethod
    def _reentry_readable(cls, value: str) -> str:
        reentry_window(value)
        return value

    @property
    def reentry_after(self) -> timedelta | None:
        return reentry_window(self.reentry)


_REENTRY = re.compile(r"^after\s+(\S+)$")


def reentry_window(value: str) -> timedelta | None:
    """None for `never` and `always` (see `Journey.reentry`), the wait for `after DURATION`."""
    if value in ("never", "always"):
        return None
    match = _REENTRY.match(value.strip())
    if not match:
        raise ValueError(f"{value!r} is not a re-entry rule: write never, always, or after DURATION (after 90d)")
    return parse_duration(match.group(1))
