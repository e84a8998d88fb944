"""A journey template's parameters: typed, with a default, a description and constraints; values given
as text (`--param replenishment_days=45`) are read by type and checked, and every problem names the
parameter and what is allowed."""

from __future__ import annotations

import difflib
import re
from typing import Any, Literal

from email_validator import EmailNotValidError, validate_email
from pydantic import Field, model_validator

from onboardflow.core.journey_steps import Record

Kind = Literal["text", "integer", "number", "email", "url", "choice", "slug"]
SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
URL = re.compile(r"^https?://[^\s/$.?#][^\s\"'<>{}]*$")


class ParametersInvalid(ValueError):
    """Parameter values that cannot be used; `problems` says, for each, what is allowed."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class Parameter(Record):
    """One parameter: its type, default and description, and what values it allows."""

    type: Kind
    default: Any
    description: str = Field(min_length=1)
    minimum: float | None = None
    maximum: float | None = None
    max_length: int = Field(default=120, ge=1)
    choices: list[str] | None = None

    @model_validator(mode="after")
    def _choices_for_choice(self) -> Parameter:
        if (self.type == "choice") != bool(self.choices):
            raise ValueError("a choice parameter lists its `choices`, and only a choice parameter does")
        return self

    def allowed(self) -> str:
        """What values this parameter takes, in words."""
        if self.type == "choice":
            return "one of " + ", ".join(self.choices or [])
        if self.type in ("integer", "number"):
            what = "a whole number" if self.type == "integer" else "a number"
            bounds = [
                f"from {_number(self.minimum)}" if self.minimum is not None else "",
                f"to {_number(self.maximum)}" if self.maximum is not None else "",
            ]
            return " ".join([what, *filter(None, bounds)])
        return {
            "text": f"one line of text, at most {self.max_length} characters",
            "email": "an email address",
            "url": "an http:// or https:// address",
            "slug": "lower-case letters, digits, - and _",
        }[self.type]

    def read(self, name: str, value: Any) -> Any:
        """The value as its type, or ValueError saying what is wrong and what is allowed."""
        found = _READERS[self.type](self, value)
        if self.type in ("integer", "number"):
            low, high = self.minimum, self.maximum
            if (low is not None and found < low) or (high is not None and found > high):
                raise ValueError(f"{_number(found)} is out of range: give {self.allowed()}")
        return found


def _text(spec: Parameter, value: Any) -> str:
    text = str(value).strip()
    if not text or "\n" in text or "\r" in text:
        raise ValueError(f"{str(value)!r} is not allowed: give {spec.allowed()}")
    if len(text) > spec.max_length:
        raise ValueError(f"{len(text)} characters is too long: give {spec.allowed()}")
    return text


def _integer(spec: Parameter, value: Any) -> int:
    if isinstance(value, bool) or not re.fullmatch(r"[+-]?\d+", str(value).strip()):
        raise ValueError(f"{str(value)!r} is not a whole number: give {spec.allowed()}")
    return int(str(value).strip())


def _float(spec: Parameter, value: Any) -> float:
    try:
        if isinstance(value, bool):
            raise ValueError
        number = float(str(value).strip())
    except ValueError:
        raise ValueError(f"{str(value)!r} is not a number: give {spec.allowed()}") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise ValueError(f"{str(value)!r} is not a number: give {spec.allowed()}")
    return number


def _email(spec: Parameter, value: Any) -> str:
    try:
        return validate_email(str(value).strip(), check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise ValueError(f"{str(value)!r} is not an email address ({error})") from None


def _url(spec: Parameter, value: Any) -> str:
    text = str(value).strip()
    if not URL.match(text):
        raise ValueError(f"{text!r} is not a web address: give {spec.allowed()}, e.g. https://shop.example")
    return text.rstrip("/")


def _choice(spec: Parameter, value: Any) -> str:
    text = str(value).strip()
    if text not in (spec.choices or []):
        raise ValueError(f"{text!r} is not allowed: give {spec.allowed()}")
    return text


def _slug(spec: Parameter, value: Any) -> str:
    text = str(value).strip()
    if not SLUG.match(text) or len(text) > spec.max_length:
        raise ValueError(f"{text!r} is not allowed: give {spec.allowed()}")
    return text


_READERS = {
    "text": _text,
    "integer": _integer,
    "number": _float,
    "email": _email,
    "url": _url,
    "choice": _choice,
    "slug": _slug,
}


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def parse_assignments(pairs: list[str]) -> tuple[dict[str, str], list[str]]:
    """`NAME=VALUE` strings as a mapping, and a problem for each that is not one (or repeats a name)."""
    values: dict[str, str] = {}
    problems = []
    for pair in pairs:
        name, equals, value = pair.partition("=")
        name = name.strip()
        if not equals or not name:
            problems.append(f'--param {pair!r}: write NAME=VALUE, e.g. --param brand_name="Acme Skin"')
        elif name in values:
            problems.append(f"--param {name}: given twice; give each parameter once")
        else:
            values[name] = value
    return values, problems


def resolve(owner: str, specs: dict[str, Parameter], given: dict[str, Any]) -> dict[str, Any]:
    """Every parameter's value: the given one, read and checked, else the default. Raises
    ParametersInvalid with every problem: unknown names (with the closest known one) and bad values."""
    problems = []
    for name in given:
        if name not in specs:
            close = difflib.get_close_matches(name, specs, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(
                f"parameter {name!r}: {owner} has no such parameter{hint}; its parameters are "
                f"{', '.join(specs)}"
            )
    values = {}
    for name, spec in specs.items():
        try:
            values[name] = spec.read(name, given.get(name, spec.default))
        except ValueError as error:
            problems.append(f"parameter {name!r}: {error}")
    if problems:
        raise ParametersInvalid(problems)
    return values


def shown(spec: Parameter, value: Any) -> str:
    """A value as it goes into a file: whole numbers without a decimal point."""
    if spec.type == "number":
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    return str(value)
