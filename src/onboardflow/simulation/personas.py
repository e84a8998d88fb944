"""Personas: who the simulated customers are and how they behave, written in YAML, with built-ins.

A personas file holds `personas` (each with a `weight` in the mix) and `reactions` (how messages
change what customers do, for every persona; a persona may add its own). Durations are written as in
journeys (`6h`, `10d`); a range is `[low, high]`, drawn evenly; a share is a number from 0 to 1.
docs/simulator.md describes every field.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from onboardflow.core.durations import parse_duration
from onboardflow.core.journey_steps import Duration, Record, StepId
from onboardflow.core.validation import JourneyInvalid, Problem, line_of, parse_yaml

BUILT_IN = "personas.yaml"
# country -> (time zone, locale, phone prefix): where a persona's customers live, and what that implies
COUNTRIES = {
    "US": ("America/New_York", "en-US", "+1202555"),
    "CA": ("America/Toronto", "en-CA", "+1416555"),
    "GB": ("Europe/London", "en-GB", "+447700"),
    "IE": ("Europe/Dublin", "en-IE", "+35385"),
    "AU": ("Australia/Sydney", "en-AU", "+61491"),
    "DE": ("Europe/Berlin", "de-DE", "+49151"),
    "FR": ("Europe/Paris", "fr-FR", "+33612"),
    "ES": ("Europe/Madrid", "es-ES", "+34612"),
    "BR": ("America/Sao_Paulo", "pt-BR", "+55119"),
    "MX": ("America/Mexico_City", "es-MX", "+52155"),
    "JP": ("Asia/Tokyo", "ja-JP", "+81905"),
    "IN": ("Asia/Kolkata", "en-IN", "+91987"),
}
CHANNELS = ("email", "sms", "whatsapp", "push")
INTENTIONS = ("setup_ticket", "delivery_ticket", "payment_ticket", "refund", "review", "repeat")

Share = Annotated[float, Field(ge=0, le=1)]
Weights = dict[str, Annotated[float, Field(ge=0)]]


class Span(Record):
    """A range of durations, written `[6h, 5d]`: a value is drawn evenly between the two."""

    low: Duration
    high: Duration

    @model_validator(mode="before")
    @classmethod
    def _from_list(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            if len(value) != 2:
                raise ValueError("write a range as [low, high], e.g. [6h, 5d]")
            return {"low": value[0], "high": value[1]}
        return value

    @model_validator(mode="after")
    def _ordered(self) -> Span:
        if self.high < self.low:
            raise ValueError("the range's high end is below its low end: write [low, high]")
        return self


class Numbers(Record):
    """A range of numbers, written `[20, 80]`."""

    low: float = Field(ge=0)
    high: float = Field(ge=0)

    @model_validator(mode="before")
    @classmethod
    def _from_list(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            if len(value) != 2:
                raise ValueError("write a range as [low, high], e.g. [20, 80]")
            return {"low": value[0], "high": value[1]}
        return value

    @model_validator(mode="after")
    def _ordered(self) -> Numbers:
        if self.high < self.low:
            raise ValueError("the range's high end is below its low end: write [low, high]")
        return self


def _weights_named(value: dict[str, float], known: tuple[str, ...] | None, what: str) -> dict[str, float]:
    if not value or sum(value.values()) <= 0:
        raise ValueError(f"give at least one {what} a weight above 0")
    unknown = [name for name in value if known is not None and name not in known]
    if unknown:
        raise ValueError(f"unknown {what} {', '.join(map(repr, unknown))}: use {', '.join(known)}")
    return value


class Profile(Record):
    countries: Weights = Field(description="Country code -> weight; the zone and locale follow the country")
    locale: str | None = Field(default=None, description="A locale for everyone, instead of the country's")
    traits: dict[str, Any] = Field(default_factory=dict)
    email: Share = Field(default=1.0, description="Share of customers with an email address")
    phone: Share = Field(default=0.6, description="Share of customers with a phone number")

    @field_validator("countries")
    @classmethod
    def _known_countries(cls, value: dict[str, float]) -> dict[str, float]:
        return _weights_named(value, tuple(COUNTRIES), "country")


class Orders(Record):
    first_after: Span = Field(
        default_factory=lambda: Span(low="2h", high="8d"),
        description="Time from arriving (signing up) to the first order",
    )
    value: Numbers = Field(default_factory=lambda: Numbers(low=20, high=80), description="Order total")
    currency: str = "USD"
    categories: Weights = Field(default_factory=lambda: {"general": 1.0})
    items: Numbers = Field(default_factory=lambda: Numbers(low=1, high=3))
    history: Numbers = Field(
        default_factory=lambda: Numbers(low=0, high=0),
        description="Orders placed before the run (a returning buyer has some)",
    )

    @field_validator("categories")
    @classmethod
    def _some_category(cls, value: dict[str, float]) -> dict[str, float]:
        return _weights_named(value, None, "category")


class Payment(Record):
    failure: Share = 0.02
    recovered: Share = Field(default=0.6, description="Share of failed payments paid within a day")


class Delivery(Record):
    days: Numbers = Field(default_factory=lambda: Numbers(low=2, high=6), description="Days from shipping")
    late: Share = Field(default=0.08, description="Share delivered after the estimated date")
    late_by: Numbers = Field(default_factory=lambda: Numbers(low=1, high=7), description="Days late")
    failed: Share = Field(default=0.02, description="Share whose delivery fails (delivered late, later)")


class Support(Record):
    setup: Share = Field(default=0.12, description="Chance of a setup or how-to ticket after delivery")
    delivery: Share = Field(default=0.45, description="Chance of a ticket when a delivery is late or fails")
    payment: Share = Field(default=0.3, description="Chance of a ticket when a payment fails")
    after: Span = Field(
        default_factory=lambda: Span(low="6h", high="5d"), description="When, after its cause"
    )
    tone: Weights = Field(default_factory=lambda: {"negative": 0.3, "neutral": 0.5, "positive": 0.2})
    resolved_after: Span = Field(
        default_factory=lambda: Span(low="1h", high="2d"),
        description="From a ticket to its resolution (Support Ticket Resolved)",
    )
    rated: Share = Field(default=0.6, description="Share of resolved tickets whose customer rates the help")
    rated_bad: dict[Literal["negative", "neutral", "positive"], Share] = Field(
        default_factory=lambda: {"negative": 0.5, "neutral": 0.15, "positive": 0.05},
        description="Share of ratings that are bad, by the ticket's tone",
    )

    @field_validator("tone")
    @classmethod
    def _tones(cls, value: dict[str, float]) -> dict[str, float]:
        return _weights_named(value, ("negative", "neutral", "positive"), "tone")


class Engagement(Record):
    open: dict[Literal["email", "sms", "whatsapp", "push", "in_app"], Share] = Field(
        default_factory=lambda: {"email": 0.45, "sms": 0.9, "whatsapp": 0.85, "push": 0.3, "in_app": 0.5},
        description="Share of delivered messages opened (read), per channel",
    )
    click: Share = Field(default=0.2, description="Share of opened messages whose link is clicked")
    unsubscribe: Share = Field(default=0.005, description="Share of opened marketing messages unsubscribing")


class Repeat(Record):
    share: Share = Field(default=0.25, description="Chance of another order after a delivery")
    after: Span = Field(default_factory=lambda: Span(low="10d", high="45d"))


class Subscription(Record):
    plan: str = Field(min_length=1)
    price: float = Field(gt=0)
    every: Duration = Field(description="Time between renewals, e.g. 30d")
    failure: Share = Field(default=0.05, description="Share of renewals whose payment fails")
    recovered: Share = Field(default=0.5, description="Share of failed renewals paid later (card updated)")
    notice: Duration = Field(
        default_factory=lambda: parse_duration("3d"),
        description="How long before a renewal the shop announces it (Subscription Renewal Upcoming)",
    )


class Checkout(Record):
    abandon: Share = Field(
        default=0.2, description="Chance that an order follows a checkout left unfinished (Checkout Started)"
    )
    before: Span = Field(
        default_factory=lambda: Span(low="1h", high="3d"), description="How long before the order it was left"
    )


class ProfileCompletion(Record):
    share: Share = Field(default=0.5, description="Share of those logging in who complete their profile")
    after: Span = Field(default_factory=lambda: Span(low="10m", high="3d"), description="After first login")


class ReactionWhen(Record):
    template: str | None = None
    purpose: Literal["transactional", "education", "engagement", "promotion"] | None = None
    channel: str | None = None
    engaged: Literal["delivered", "opened", "clicked"] = Field(
        default="opened", description="How far the customer must go with the message for it to count"
    )


class Reaction(Record):
    """How a message changes what a customer does later: each intention's chance is multiplied."""

    when: ReactionWhen = Field(default_factory=ReactionWhen)
    setup_ticket: float | None = Field(default=None, ge=0)
    delivery_ticket: float | None = Field(default=None, ge=0)
    payment_ticket: float | None = Field(default=None, ge=0)
    refund: float | None = Field(default=None, ge=0)
    review: float | None = Field(default=None, ge=0)
    repeat: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _changes_something(self) -> Reaction:
        if not self.factors:
            raise ValueError(f"a reaction multiplies at least one chance: {', '.join(INTENTIONS)}")
        return self

    @property
    def factors(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in INTENTIONS if getattr(self, name) is not None}


class Persona(Record):
    id: StepId
    name: str = Field(min_length=1)
    weight: float = Field(default=1.0, gt=0, description="This persona's weight in the mix")
    profile: Profile
    consent: dict[Literal["email", "sms", "whatsapp", "push"], Share] = Field(
        default_factory=dict, description="Channel -> share who grant marketing consent (the rest withdraw)"
    )
    signup: Share = Field(default=0.8, description="Share who sign up before ordering (the rest: as guests)")
    activation: Share = Field(default=0.7, description="Share of those signing up who log in (First Login)")
    profile_completion: ProfileCompletion = Field(
        default_factory=ProfileCompletion, description="Profile Completed (preferences, consent) after login"
    )
    checkout: Checkout = Field(default_factory=Checkout)
    orders: Orders = Field(default_factory=Orders)
    payment: Payment = Field(default_factory=Payment)
    delivery: Delivery = Field(default_factory=Delivery)
    support: Support = Field(default_factory=Support)
    refund: Share = Field(default=0.03, description="Chance of a refund request after delivery (x2 if late)")
    review: Share = Field(default=0.08, description="Chance of a review after a delivery")
    engagement: Engagement = Field(default_factory=Engagement)
    repeat: Repeat = Field(default_factory=Repeat)
    subscription: Subscription | None = None
    reactions: list[Reaction] = Field(default_factory=list)


class PersonaSet(Record):
    personas: list[Persona] = Field(min_length=1)
    reactions: list[Reaction] = Field(default_factory=list, description="Reactions of every persona")

    @model_validator(mode="after")
    def _unique_ids(self) -> PersonaSet:
        ids = [persona.id for persona in self.personas]
        twice = sorted({pid for pid in ids if ids.count(pid) > 1})
        if twice:
            raise ValueError(f"persona id {', '.join(map(repr, twice))} is used twice: ids must be unique")
        return self

    def only(self, ids: list[str]) -> PersonaSet:
        """The personas named (the mix keeps their weights); raises PersonasInvalid naming an unknown one."""
        known = {persona.id: persona for persona in self.personas}
        unknown = [pid for pid in ids if pid not in known]
        if unknown:
            raise PersonasInvalid(
                [
                    Problem(
                        "--persona",
                        f"no persona {', '.join(map(repr, unknown))}; personas are: {', '.join(known)}",
                    )
                ]
            )
        return PersonaSet(personas=[known[pid] for pid in dict.fromkeys(ids)], reactions=self.reactions)

    def reactions_of(self, persona: Persona) -> list[Reaction]:
        return [*self.reactions, *persona.reactions]


class PersonasInvalid(ValueError):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(problem) for problem in problems))
        self.problems = problems


def built_in_text() -> str:
    return resources.files("onboardflow.simulation").joinpath(BUILT_IN).read_text(encoding="utf-8")


def built_in_personas() -> PersonaSet:
    return read_personas(built_in_text(), source=f"onboardflow/simulation/{BUILT_IN}")


def load_personas(path: Path) -> PersonaSet:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise PersonasInvalid([Problem(str(path), f"cannot read the file: {error}")]) from None
    return read_personas(text, source=str(path))


def read_personas(text: str, *, source: str) -> PersonaSet:
    """Read a personas file; raise PersonasInvalid listing every problem with its line and persona."""
    try:
        document, lines = parse_yaml(text, source)
    except JourneyInvalid as invalid:
        raise PersonasInvalid(invalid.problems) from None
    if not isinstance(document, dict):
        said = "a personas file is a mapping with `personas:` (and `reactions:`)"
        raise PersonasInvalid([Problem(source, said, 1)])
    try:
        return PersonaSet.model_validate(document)
    except ValidationError as error:
        raise PersonasInvalid([_problem(item, document, source, lines) for item in error.errors()]) from None


def _problem(item: dict, document: dict, source: str, lines: dict) -> Problem:
    path = tuple(item["loc"])
    message = item["msg"].removeprefix("Value error, ")
    if item["type"] == "extra_forbidden":
        message = f"unknown field {path[-1]!r}: remove it or check its spelling"
    field = ".".join(map(str, path)) or None
    if len(path) > 1 and path[0] == "personas" and isinstance(path[1], int):
        personas = document.get("personas")
        raw = personas[path[1]] if isinstance(personas, list) and path[1] < len(personas) else None
        name = raw.get("id") if isinstance(raw, dict) else None
        rest = ".".join(map(str, path[2:]))
        field = f"{rest} of persona {name!r}" if name and rest else ".".join(map(str, path))
    return Problem(source, message, line_of(lines, path), None, field)
