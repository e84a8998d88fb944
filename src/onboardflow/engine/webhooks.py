"""The webhook runner: makes the `webhook` step's calls and tells each journey how its call went.

A call is claimed with a lease, sent, and answered back to the engine as a `Webhook Succeeded` or
`Webhook Failed` event; a 429, a 5xx, a time-out or no connection is tried again later, with exponential
back-off and jitter, honouring Retry-After. The event is emitted before the outcome is recorded, under an
id made from the call's: a crash in between leaves the call pending, so it is made again (same
`webhook-id`, for the receiver to drop) and its event, the same id again, is dropped as a duplicate.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx

from onboardflow.channels.http import retry_after_seconds
from onboardflow.core.effects import CallWebhook, stable_id
from onboardflow.core.model import WEBHOOK_FAILED, WEBHOOK_SUCCEEDED, Event
from onboardflow.engine.webhook_request import (
    CallRefused,
    Reply,
    Request,
    build_request,
    excerpt,
    exchange,
    unreachable,
    where,
)
from onboardflow.ports import Clock, WebhookCall

BACKOFF_FIRST = timedelta(seconds=30)  # the wait before the first retry, doubled for each one after
BACKOFF_MAX = timedelta(hours=1)  # no wait is longer, whatever the attempt or the Retry-After
LEASE_SECONDS = 300  # a claimed call is no one else's for this long: above any step's time-out, several times
RETRY_STATUSES = frozenset({408, 429})  # and every 5xx

Emit = Callable[[list[Event]], object]
log = logging.getLogger("onboardflow.webhooks")


@dataclass
class CallsResult:
    succeeded: int = 0
    retried: int = 0
    failed: int = 0

    @property
    def total(self) -> int:
        return self.succeeded + self.retried + self.failed

    def add(self, other: CallsResult) -> None:
        self.succeeded += other.succeeded
        self.retried += other.retried
        self.failed += other.failed


@dataclass(frozen=True, slots=True)
class Answer:
    """What one attempt came to: a success, a failure worth retrying, or a failure for good."""

    outcome: str  # succeeded, retry, failed
    status: int | None = None
    response: Any = None
    error: str | None = None
    retry_after: timedelta | None = None


def run_due_calls(
    store, *, clock: Clock, http: httpx.Client, environ: Mapping[str, str], emit: Emit, limit: int = 100
) -> CallsResult:
    """Make every webhook call due by now (up to `limit`), one at a time, and settle each.

    `emit` takes the answer events: `Engine.ingest` in one process, `Engine.enqueue` for workers.
    Each call is claimed on its own, at the clock's time then: a slow receiver cannot make the leases
    of calls still waiting run out.
    """
    result = CallsResult()
    while result.total < limit:
        claimed = store.claim_calls(clock.now(), 1, lease_seconds=LEASE_SECONDS)
        if not claimed:
            break
        row = claimed[0]
        answer = attempt(row.call, clock=clock, http=http, environ=environ)
        settle(store, row, answer, now=clock.now(), emit=emit, result=result)
    return result


def attempt(call: CallWebhook, *, clock: Clock, http: httpx.Client, environ: Mapping[str, str]) -> Answer:
    """Make the call once; whatever goes wrong becomes an Answer, never an exception."""
    try:
        request = build_request(call, environ=environ, now=clock.now())
    except CallRefused as refused:
        return Answer("failed", error=str(refused))
    try:
        return send(call, request, http=http, now=clock.now)
    except Exception as error:  # a fault of ours must not stall every call behind this one, again and again
        log.exception("webhook call %s could not be made", call.call_id)
        return Answer("failed", error=f"{where(call)}: the call could not be made ({type(error).__name__}: "
                                      f"{error}); this is a fault in onboardflow, please report it")


def send(call: CallWebhook, request: Request, *, http: httpx.Client, now: Callable[[], datetime]) -> Answer:
    seconds = call.timeout.total_seconds()
    host = httpx.URL(request.url).host
    try:
        reply = exchange(http, request, seconds=seconds)
    except httpx.HTTPError as error:
        return Answer("retry", error=unreachable(error, host=host, seconds=seconds))
    return judge(call, reply, host=host, now=now())


def judge(call: CallWebhook, reply: Reply, *, host: str, now: datetime) -> Answer:
    status = reply.status
    if 200 <= status < 300:
        return Answer("succeeded", status, parsed(reply.body) if reply.complete else None)
    said = f"{host} answered {status} {reply.reason}".rstrip()
    if status in RETRY_STATUSES or status >= 500:
        wait = retry_after(reply.headers.get("retry-after"), now=now)
        return Answer("retry", status, error=said, retry_after=wait)
    if 300 <= status < 400:
        location = reply.headers.get("location", "no Location")
        fix = f"redirects are not followed; give {where(call)} the final URL ({location})"
        return Answer("failed", status, error=f"{said}: {fix}")
    return Answer("failed", status, error=f"{said}: the receiver refuses the call, so it is not tried again"
                                          f"{excerpt(reply.body)}")


def parsed(body: bytes) -> Any:
    """The answer as JSON, for `map`; an empty or non-JSON answer is null."""
    if not body.strip():
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def settle(
    store, row: WebhookCall, answer: Answer, *, now: datetime, emit: Emit, result: CallsResult
) -> None:
    """Retry later, or emit the answer event and record the outcome, in that order (see the module)."""
    call, attempts = row.call, row.attempts + 1
    if answer.outcome == "retry" and attempts <= call.retries:
        wait = max(backoff(call.call_id, attempts), answer.retry_after or timedelta(0))
        store.record_call(call.call_id, status="pending", at=now, attempts=attempts,
                          next_attempt_at=now + min(wait, BACKOFF_MAX), error=answer.error)
        result.retried += 1
        return
    if answer.outcome == "succeeded":
        emit([answer_event(call, WEBHOOK_SUCCEEDED, now, status=answer.status, response=answer.response,
                           attempts=attempts)])
        store.record_call(call.call_id, status="succeeded", at=now, attempts=attempts,
                          response=answer.response)
        result.succeeded += 1
        return
    error = answer.error or "failed"
    if answer.outcome == "retry":
        error = f"{error}; gave up after {attempts} attempt(s) (retries: {call.retries})"
    emit([answer_event(call, WEBHOOK_FAILED, now, status=answer.status, error=error, attempts=attempts)])
    store.record_call(call.call_id, status="failed", at=now, attempts=attempts, error=error)
    result.failed += 1


def answer_event(call: CallWebhook, name: str, at: datetime, **properties: Any) -> Event:
    """The event a waiting `webhook` step resumes on; its id is the call's, so it is made once."""
    kind = "succeeded" if name == WEBHOOK_SUCCEEDED else "failed"
    about = {"call_id": call.call_id, "enrollment_id": call.enrollment_id, "journey_id": call.journey_id,
             "step_id": call.step_id}
    return Event(stable_id("evt", call.call_id, kind), name, call.customer_id, at, {**about, **properties})


def backoff(call_id: str, attempt: int) -> timedelta:
    """The wait after failed attempt number `attempt` (1, 2, …): 30s doubled each time, at most an hour,
    less a jitter of up to half that the call's id and the attempt decide, so calls that failed together
    do not come back together, and a re-run computes the same time."""
    ceiling = min(BACKOFF_FIRST * 2 ** min(attempt - 1, 32), BACKOFF_MAX)
    digest = hashlib.blake2b(f"{call_id}\x1f{attempt}".encode(), digest_size=8).digest()
    share = int.from_bytes(digest, "big") / 2**64
    return ceiling * (1 - share / 2)


def retry_after(value: str | None, *, now: datetime) -> timedelta | None:
    """A Retry-After header (seconds, or an HTTP date) as a wait from `now`, at most BACKOFF_MAX; None if
    absent or unreadable."""
    seconds = retry_after_seconds(value, now=now)
    return None if seconds is None else timedelta(seconds=min(seconds, BACKOFF_MAX.total_seconds()))
