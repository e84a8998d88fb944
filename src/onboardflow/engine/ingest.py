"""Ingest: read events in the canonical shape, check them, and say exactly what is wrong with a bad one."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson

from onboardflow.core.consent import consent_event_problems
from onboardflow.core.model import Event

EVENT_FIELDS = ("id", "name", "customer_id", "at", "properties", "customer")
REQUIRED = ("id", "name", "customer_id", "at")
CUSTOMER_FIELDS = ("email", "phone", "locale", "timezone", "country", "traits", "consent")
TEXT_CUSTOMER_FIELDS = ("email", "phone", "locale", "timezone", "country")


class EventError(ValueError):
    """An event that cannot be accepted, with what to fix."""


@dataclass(frozen=True, slots=True)
class LineError:
    line: int
    message: str
    text: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


def parse_event(data: Any, *, storable: bool = False) -> Event:
    """A canonical event from a decoded JSON object; raises EventError naming every problem.

    `storable`: the caller knows every text in it is storable (no NUL, no lone surrogate), as the API knows
    of a body orjson read without a \u0000 in it: then the text is not looked at again.
    """
    plain = _plainly_valid(data, storable)
    return plain if plain is not None else checked_event(data)


def checked_event(data: Any) -> Event:
    """`parse_event` the long way: every rule checked, every problem listed."""
    if not isinstance(data, dict):
        raise EventError(f"an event is a JSON object with {', '.join(REQUIRED)}; got {type(data).__name__}")
    problems = [f"missing field {name!r}" for name in REQUIRED if data.get(name) in (None, "")]
    problems += [
        f"unknown field {name!r} (an event has {', '.join(EVENT_FIELDS)}; put extra data in properties)"
        for name in data
        if name not in EVENT_FIELDS
    ]
    for name in ("id", "customer_id", "name"):
        value = data.get(name)
        if value not in (None, "") and (isinstance(value, bool) or not isinstance(value, (str, int))):
            problems.append(f"{name!r} must be a string, got {type(data[name]).__name__}")
    at = _parse_time(data.get("at"), problems) if data.get("at") not in (None, "") else None
    if not isinstance(data.get("properties", {}), dict):
        problems.append("'properties' must be an object")
    customer = _check_customer(data.get("customer"), problems)
    if isinstance(data.get("properties"), dict):
        problems += consent_event_problems(str(data.get("name")), data["properties"])
    if not problems and _may_hold_unstorable_text(data) and (found := unstorable_text_at(data)) is not None:
        problems.append(found)
    if problems:
        raise EventError("; ".join(problems))
    return Event(
        id=str(data["id"]),
        name=str(data["name"]),
        customer_id=str(data["customer_id"]),
        at=at,
        properties=data.get("properties") or {},
        customer=customer,
    )


def _plainly_valid(data: Any, storable: bool) -> Event | None:
    """The event, when it is valid in the plain way most are (text where text goes, a time with a zone);
    None to let the whole check find what is wrong, or that an unusual one (an int id, say) is fine too.
    On the API's hot path: a few type checks instead of building the lists of problems."""
    if type(data) is not dict or not data.keys() <= _EVENT_KEYS:
        return None
    event_id, name, customer_id = data.get("id"), data.get("name"), data.get("customer_id")
    if not (type(event_id) is str and event_id and type(name) is str and name and type(customer_id) is str
            and customer_id):
        return None
    at = data.get("at")
    at = _utc_time(at) if type(at) is str else None
    properties = data.get("properties", _NO_PROPERTIES)
    customer = data.get("customer")
    if at is None or type(properties) is not dict or not (customer is None or _plain_customer(customer)):
        return None
    if consent_event_problems(name, properties):
        return None
    if not storable and _may_hold_unstorable_text(data) and unstorable_text_at(data) is not None:
        return None
    return Event(id=event_id, name=name, customer_id=customer_id, at=at, properties=properties or {},
                 customer=customer)


_EVENT_KEYS = frozenset(EVENT_FIELDS)
_CUSTOMER_KEYS = frozenset(CUSTOMER_FIELDS)
_NO_PROPERTIES: dict[str, Any] = {}


@lru_cache(maxsize=4096)  # the events of a batch often share their times
def _utc_time(value: str) -> datetime | None:
    """`at` in UTC when it is an ISO-8601 text with a zone that UTC can hold; None otherwise."""
    try:
        moment = datetime.fromisoformat(value)
        return None if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def _plain_customer(block: Any) -> bool:
    if type(block) is not dict or not block.keys() <= _CUSTOMER_KEYS:
        return False
    for name in TEXT_CUSTOMER_FIELDS:
        value = block.get(name)
        if value is not None and type(value) is not str:
            return False
    for name in ("traits", "consent"):
        value = block.get(name)
        if value is not None and type(value) is not dict:
            return False
    zone = block.get("timezone")
    return zone is None or _is_zone(zone)


@lru_cache(maxsize=1024)
def _is_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _parse_time(value: Any, problems: list[str]) -> datetime | None:
    if not isinstance(value, str):
        problems.append(f"'at' must be an ISO-8601 string with a zone, e.g. 2026-03-01T10:00:00Z; got {value!r}")
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        problems.append(f"'at' is not an ISO-8601 time: {value!r}; write e.g. 2026-03-01T10:00:00Z")
        return None
    if moment.tzinfo is None:
        problems.append(f"'at' has no time zone: {value!r}; add Z or an offset, e.g. {value}Z")
        return None
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+01:00, which is before year 1 in UTC
        problems.append(f"'at' is out of range in UTC: {value!r}; give a time between years 1 and 9999")
        return None


def _check_customer(block: Any, problems: list[str]) -> dict[str, Any] | None:
    if block is None:
        return None
    if not isinstance(block, dict):
        problems.append("'customer' must be an object")
        return None
    for name in block:
        if name not in CUSTOMER_FIELDS:
            problems.append(f"unknown field 'customer.{name}' (a customer block has {', '.join(CUSTOMER_FIELDS)})")
    for name in ("traits", "consent"):
        if block.get(name) is not None and not isinstance(block[name], dict):
            problems.append(f"'customer.{name}' must be an object")
    for name in TEXT_CUSTOMER_FIELDS:
        if block.get(name) is not None and not isinstance(block[name], str):
            problems.append(f"'customer.{name}' must be a string, got {type(block[name]).__name__}")
    zone = block.get("timezone")
    if isinstance(zone, str):
        try:
            ZoneInfo(str(zone))
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(f"'customer.timezone' {zone!r} is not an IANA time zone, e.g. America/New_York")
    return block


def _may_hold_unstorable_text(data: dict[str, Any]) -> bool:
    """A quick look before `unstorable_text_at` walks the event: orjson writes a NUL as \\u0000 and
    refuses a lone surrogate (as it refuses an integer past 64 bits, which is fine: then walk it)."""
    try:
        return b"\\u0000" in orjson.dumps(data)
    except TypeError:
        return True


def unstorable_text_at(value: Any, path: str = "") -> str | None:
    """What in a decoded JSON value is text the store cannot keep, and where ('properties.note'), or None.

    PostgreSQL keeps no NUL character in text or JSONB, and a lone UTF-16 surrogate (a JSON escape such
    as \\ud800 without its pair) is no character at all; an event holding one is refused here, saying
    where, rather than failing the transaction that writes it.
    """
    if isinstance(value, str):
        return _text_problem(value, f"'{path or 'value'}'")
    if isinstance(value, dict):
        for key, item in value.items():
            inner = f"{path}.{key}" if path else str(key)
            if (found := _text_problem(str(key), f"the key '{inner}'")) is not None:
                return found
            if isinstance(item, str | dict | list) and (found := unstorable_text_at(item, inner)) is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if not isinstance(item, str | dict | list):
                continue
            if (found := unstorable_text_at(item, f"{path}[{index}]")) is not None:
                return found
    return None


def _text_problem(text: str, where: str) -> str | None:
    if "\x00" in text:
        return f"{where} holds a NUL character (\\u0000), which the store cannot keep: remove it"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return f"{where} holds a lone UTF-16 surrogate, which is no character: send whole pairs or UTF-8"
    return None


def read_events(lines: Iterable[str]) -> Iterator[Event | LineError]:
    """Events from JSON lines, one a line; a bad line yields a LineError and reading goes on."""
    for number, text in enumerate(lines, start=1):
        stripped = text.strip()
        if not stripped:
            continue
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError as error:
            yield LineError(number, f"not valid JSON: {error.msg} at column {error.colno}", stripped)
            continue
        try:
            yield parse_event(data)
        except EventError as error:
            yield LineError(number, str(error), stripped)


def event_to_json(event: Event) -> dict[str, Any]:
    """The canonical JSON shape of an event (the inverse of parse_event)."""
    data: dict[str, Any] = {
        "id": event.id,
        "name": event.name,
        "customer_id": event.customer_id,
        "at": event.at.isoformat().replace("+00:00", "Z"),
        "properties": event.properties,
    }
    if event.customer:
        data["customer"] = event.customer
    return data
