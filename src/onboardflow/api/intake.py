"""The event intake behind `/v1/events`, `/v1/events/batch` and `/v1/segment`: check each event with the
rules `onboardflow ingest` applies, queue the good ones (group commit), and say what became of each.

A batch takes its good events and names each bad one by its index with what to fix; a request in which
no event is good is refused whole (422), since nothing was taken. Nothing is answered before the events
it reports as queued are committed to the store's queue; the workers (`onboardflow run`) take them on.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from onboardflow.api.event_schemas import MAX_BATCH_EVENTS
from onboardflow.api.problems import Problem
from onboardflow.core.model import Event
from onboardflow.engine.ingest import EventError, parse_event
from onboardflow.engine.queue_writer import QueueWriter
from onboardflow.integrations import segment
from onboardflow.ports import ApiKey, Clock

SHOWN_ERRORS = 3  # in the detail of a 422; the `errors` member lists them all


@dataclass
class Checked:
    """A request's items sorted out: the events to queue, the refused and the ignored (by index)."""

    events: list[Event] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    ignored: list[dict[str, Any]] = field(default_factory=list)

    def refuse(self, index: int, item: Any, detail: str) -> None:
        self.errors.append({"index": index, "id": _id_of(item), "detail": detail})


class Intake:
    """Turns request bodies into queued events; one per app, shared by its requests."""

    def __init__(self, writer: QueueWriter, *, clock: Clock) -> None:
        self.writer, self.clock = writer, clock

    async def event(self, body: Any, *, storable: bool = False) -> dict[str, Any]:
        """One canonical event (`POST /v1/events`); `storable`: its text is known storable (parse_json)."""
        return await self.accept(check_events([body], storable=storable))

    async def batch(self, body: Any, *, storable: bool = False) -> dict[str, Any]:
        """`{"events": [...]}` (`POST /v1/events/batch`)."""
        return await self.accept(check_events(batch_items(body, "events"), storable=storable))

    async def segment(self, body: Any, *, storable: bool = False) -> dict[str, Any]:
        """One Segment call or Segment's batch (`POST /v1/segment`)."""
        try:
            messages = segment.segment_messages(body)
        except segment.SegmentError as error:
            raise Problem(422, "Invalid Segment call", str(error)) from None
        if "batch" in body:
            batch_items(body, "batch")  # the batch's size, checked as the events route checks it
        return await self.accept(check_segment(messages, self.clock), with_ignored=True)

    async def accept(self, checked: Checked, *, with_ignored: bool = False) -> dict[str, Any]:
        """Queue the good events; what became of each. 422 when there were only bad ones."""
        if not checked.events and checked.errors:
            raise refused(checked)
        queued_ids = await self._queue(checked.events) if checked.events else set()
        queued, duplicates = [], []
        for event in checked.events:
            if event.id in queued_ids:
                queued.append(event.id)
                queued_ids.discard(event.id)  # a second of the same id in the request is a duplicate
            else:
                duplicates.append(event.id)
        answer = {"accepted": len(checked.events), "queued": queued, "duplicates": duplicates,
                  "errors": checked.errors}
        if with_ignored:
            answer["ignored"] = checked.ignored
        return answer

    async def _queue(self, events: list[Event]) -> set[str]:
        try:
            return await self.writer.queue(events)
        except Exception as error:
            raise Problem(
                503, "Events not queued",
                f"the store could not be written ({type(error).__name__}); none of these events was queued: "
                "send them again (their ids make a retry safe)",
                headers={"Retry-After": "1"},
            ) from error


async def take(request: Request, key: ApiKey, accept: Callable[[Any], Awaitable[dict[str, Any]]]) -> Response:
    """A route's whole work: the body read as JSON, given to `accept` (one of Intake's), answered 202 with
    what was taken; through the app's IdempotencyKeys when the request has an Idempotency-Key."""
    body = await request.body()
    document, storable = parse_json(body)

    async def respond() -> Response:
        answer = await accept(document, storable=storable)
        return Response(orjson.dumps(answer), status_code=202, media_type="application/json")

    return await request.app.state.idempotency.answer(request, key, body, respond)


def batch_items(body: Any, member: str) -> list[Any]:
    """The list a batch body holds in `member`; 422 for another shape, none, or more than 1,000."""
    if not isinstance(body, dict) or not isinstance(body.get(member), list):
        raise Problem(422, "Invalid batch", f"a batch is a JSON object {{\"{member}\": [...]}} with up to "
                      f"{MAX_BATCH_EVENTS:,} items; got {_shape(body)}")
    unknown = sorted(name for name in body if name != member) if member == "events" else []
    if unknown:
        raise Problem(422, "Invalid batch", f"unknown field {unknown[0]!r}: a batch has only 'events'")
    items = body[member]
    if not items:
        raise Problem(422, "Empty batch", f"'{member}' is empty: send at least one event")
    if len(items) > MAX_BATCH_EVENTS:
        raise Problem(422, "Batch too long", f"'{member}' has {len(items):,} items; a batch takes up to "
                      f"{MAX_BATCH_EVENTS:,}: split it")
    return items


def check_events(items: list[Any], *, storable: bool = False) -> Checked:
    checked = Checked()
    for index, item in enumerate(items):
        try:
            checked.events.append(parse_event(item, storable=storable))
        except EventError as error:
            checked.refuse(index, item, str(error))
    return checked


def check_segment(messages: list[Any], clock: Clock) -> Checked:
    checked, received_at = Checked(), clock.now()
    for index, message in enumerate(messages):
        try:
            mapped = segment.canonical_event(message, received_at=received_at)
            if isinstance(mapped, segment.Ignored):
                checked.ignored.append({"index": index, "type": mapped.type, "detail": mapped.detail})
                continue
            checked.events.append(parse_event(mapped))
        except segment.SegmentError as error:
            checked.refuse(index, _segment_id(message), str(error))
        except EventError as error:
            checked.refuse(index, _segment_id(message), segment.in_segment_terms(str(error)))
    return checked


def refused(checked: Checked) -> Problem:
    shown = "; ".join(f"[{error['index']}] {error['detail']}" for error in checked.errors[:SHOWN_ERRORS])
    more = len(checked.errors) - SHOWN_ERRORS
    if len(checked.errors) == 1 and checked.errors[0]["index"] == 0:
        detail = checked.errors[0]["detail"]
    else:
        detail = "no event was taken: " + shown + (f"; and {more} more (see errors)" if more > 0 else "")
    return Problem(422, "Invalid event", detail, errors=checked.errors)


# every digit as 0, anything else as '.': a run of 19 zeros is a run of 19 digits (faster than a regex)
_DIGITS = bytes(ord("0") if chr(code) in "0123456789" else ord(".") for code in range(256))
_LONG_DIGITS = b"0" * 19


def parse_json(body: bytes) -> tuple[Any, bool]:
    """The decoded body, and whether every text in it is known storable without looking at each (orjson
    read it, which refuses lone surrogates, and it holds no NUL escape); 400 saying where it stops being
    JSON (line and column).

    orjson reads it, unless a run of 19 digits or more may be an integer past 64 bits, which orjson would
    turn into an inexact float: then Python's json, which keeps it exact (and is told to refuse NaN).
    """
    if not body.strip():
        raise Problem(400, "Empty body", "the body is empty: send a JSON object")
    try:
        if body.translate(_DIGITS).find(_LONG_DIGITS) < 0:
            return orjson.loads(body), b"\\u0000" not in body
        return json.loads(body, parse_constant=_no_constant), False
    except _NotJson as error:
        raise Problem(400, "Malformed JSON", f"the body is not valid JSON: {error}") from None
    except UnicodeDecodeError as error:
        raise Problem(400, "Body is not UTF-8", f"the body must be JSON in UTF-8: {error.reason} at byte "
                      f"{error.start}") from None
    except json.JSONDecodeError as error:
        where = f"line {error.lineno}, column {error.colno}"
        raise Problem(400, "Malformed JSON", f"the body is not valid JSON: {error.msg} at {where}",
                      line=error.lineno, column=error.colno) from None


class _NotJson(ValueError):
    """What Python's json module reads but JSON has not: NaN, Infinity."""


def _no_constant(name: str) -> Any:
    raise _NotJson(f"{name} is not a JSON value (write a number or null)")


def _id_of(item: Any) -> str | None:
    if isinstance(item, dict) and isinstance(item.get("id"), str | int) and not isinstance(item["id"], bool):
        return str(item["id"])
    return None


def _segment_id(message: Any) -> dict[str, Any]:
    return {"id": message.get("messageId")} if isinstance(message, dict) else {}


def _shape(value: Any) -> str:
    if isinstance(value, dict):
        return "an object with " + (", ".join(repr(name) for name in list(value)[:5]) or "no fields")
    return f"a JSON {type(value).__name__}"
