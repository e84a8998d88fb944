"""Segment's `track` and `identify` calls as canonical events, so any Segment source can feed onboardflow.

Field names are Segment's (its Spec: common fields, track, identify, and the HTTP API's batch):
messageId → id, event → name, userId (else anonymousId) → customer_id, timestamp (else the device's
originalTimestamp corrected by sentAt, as Segment does) → at, properties → properties, and the traits
(context.traits on a track call) → the customer block: email, phone, country (or address.country),
locale and timezone (or context.locale / context.timezone), the other traits as traits.
An identify call becomes the canonical event `Identify`, whose customer block updates the profile.
The calls onboardflow has no use for (page, screen, group, alias) are ignored, not refused.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

IDENTIFY = "Identify"
TAKEN = ("track", "identify")
IGNORED = ("page", "screen", "group", "alias")
PROFILE_TRAITS = ("email", "phone", "country", "locale", "timezone")

# the canonical field an error names, as the Segment caller knows it
SEGMENT_NAMES = {
    "id": "messageId",
    "name": "event",
    "customer_id": "userId",
    "at": "timestamp",
    "customer.timezone": "timezone",
}
_CANONICAL_NAME = re.compile(r"'(id|name|customer_id|at|customer\.timezone)'")


class SegmentError(ValueError):
    """A Segment message onboardflow cannot take, with what to fix."""


@dataclass(frozen=True, slots=True)
class Ignored:
    """A call of a type onboardflow does not use; answered, so the source does not send it again."""

    type: str

    @property
    def detail(self) -> str:
        return f"{self.type!r} calls are not used; onboardflow takes {' and '.join(TAKEN)}"


def segment_messages(body: Any) -> list[Any]:
    """The messages of a request body: one call, or Segment's batch (`{"batch": [...]}`), whose `context`
    and `sentAt` each message takes unless it has its own."""
    if not isinstance(body, dict):
        raise SegmentError("the body is a Segment call (a JSON object with a type) or {\"batch\": [calls]}")
    if "batch" not in body:
        return [body]
    batch = body["batch"]
    if not isinstance(batch, list):
        raise SegmentError("'batch' must be a list of Segment calls")
    shared_context = body.get("context") if isinstance(body.get("context"), dict) else {}
    return [_with_batch_fields(message, shared_context, body.get("sentAt")) for message in batch]


def _with_batch_fields(message: Any, context: dict[str, Any], sent_at: Any) -> Any:
    if not isinstance(message, dict):
        return message
    merged = dict(message)
    if context:
        own = message.get("context")
        merged["context"] = {**context, **own} if isinstance(own, dict) else context
    if sent_at is not None and "sentAt" not in message:
        merged["sentAt"] = sent_at
    return merged


def canonical_event(message: Any, *, received_at: datetime) -> dict[str, Any] | Ignored:
    """The canonical event (a dict for `ingest.parse_event` to check) of a track or identify call."""
    if not isinstance(message, dict):
        raise SegmentError(f"a Segment call is a JSON object; got {type(message).__name__}")
    kind = message.get("type")
    if kind in IGNORED:
        return Ignored(kind)
    if kind not in TAKEN:
        raise SegmentError(f"'type' is {kind!r}; onboardflow takes {' and '.join(TAKEN)} calls "
                           f"(and ignores {', '.join(IGNORED)})")
    context = _object(message, "context")
    if kind == "track":
        name, properties = message.get("event"), _object(message, "properties")
        traits = _object(context, "traits", "context.traits")
    else:
        name, properties = IDENTIFY, {}
        traits = {**_object(context, "traits", "context.traits"), **_object(message, "traits")}
    event: dict[str, Any] = {
        "id": message.get("messageId") or derived_id(message),
        "name": name,
        "customer_id": _customer_id(message),
        "at": _occurred_at(message, received_at),
        "properties": properties,
    }
    customer = customer_block(traits, context)
    if customer:
        event["customer"] = customer
    return event


def customer_block(traits: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    """Segment traits as the canonical customer block: profile fields out of the traits, the rest kept."""
    others = {name: value for name, value in traits.items() if name not in PROFILE_TRAITS}
    address = traits.get("address")
    block = {
        "email": traits.get("email"),
        "phone": traits.get("phone"),
        "country": traits.get("country") or (address.get("country") if isinstance(address, dict) else None),
        "locale": traits.get("locale") or context.get("locale"),
        "timezone": traits.get("timezone") or context.get("timezone"),
    }
    block = {name: value for name, value in block.items() if value not in (None, "")}
    if others:
        block["traits"] = others
    return block


def in_segment_terms(problem: str) -> str:
    """An error about the canonical event, naming the Segment fields the caller sent instead."""
    return _CANONICAL_NAME.sub(lambda match: f"'{SEGMENT_NAMES[match[1]]}'", problem)


def derived_id(message: dict[str, Any]) -> str:
    """An id for a call sent without messageId (Segment's libraries always send one): the same call
    sent twice gets the same id, so a retry is still one event."""
    try:
        text = orjson.dumps(message, option=orjson.OPT_SORT_KEYS, default=str)
    except TypeError:  # an integer past 64 bits, which orjson does not write
        text = json.dumps(message, sort_keys=True, default=str).encode()
    return "seg_" + hashlib.sha256(text).hexdigest()[:32]


def _customer_id(message: dict[str, Any]) -> Any:
    for name in ("userId", "anonymousId"):
        if message.get(name) not in (None, ""):
            return message[name]
    raise SegmentError("give 'userId' (or 'anonymousId' for a visitor not known yet): it names the customer")


def _occurred_at(message: dict[str, Any], received_at: datetime) -> Any:
    """`timestamp`; else the device's `originalTimestamp` moved by how far the device's clock was off when
    it sent the call (`sentAt` against when it arrived), as Segment corrects it; else when it arrived."""
    if message.get("timestamp") not in (None, ""):
        return message["timestamp"]
    original, sent = _aware(message.get("originalTimestamp")), _aware(message.get("sentAt"))
    if original is not None and sent is not None:
        try:
            return _iso(received_at - (sent - original))
        except OverflowError:  # a device clock off by millennia: take its own time, and let the checks judge it
            return message["originalTimestamp"]
    if message.get("originalTimestamp") not in (None, ""):
        return message["originalTimestamp"]
    return _iso(received_at)


def _aware(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _object(container: dict[str, Any], name: str, label: str | None = None) -> dict[str, Any]:
    value = container.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise SegmentError(f"'{label or name}' must be an object")
    return value
