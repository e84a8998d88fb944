"""`Idempotency-Key`, as Stripe's API has it: a request sent again with the same key and the same body gets
the first answer again (with `Idempotent-Replayed: true`) and changes nothing; the same key with another
request is a 409 that says so, and so is a retry while the first is still being answered.

Keys are kept per API key, with the request's fingerprint (SHA-256 of method, path and body) and the
answer, for 24 hours. Only an answer that took something (2xx) is kept: after an error about the request
(4xx) or the server (5xx) nothing was taken, so the key is free for the corrected request, as Stripe frees
a key whose request failed validation. A request whose process died before it answered holds its key for
a minute, then a retry takes it over.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from onboardflow.api.problems import Problem
from onboardflow.ports import ApiKey, Clock, IdempotencyRecord, Store

HEADER = "Idempotency-Key"
KEPT_FOR = timedelta(hours=24)
IN_FLIGHT_FOR = timedelta(seconds=60)
PURGE_EVERY = timedelta(hours=1)
MAX_KEY_LENGTH = 255
REPLAYED = "Idempotent-Replayed"


class IdempotencyKeys:
    """Answers requests that carry an Idempotency-Key; one per app."""

    def __init__(self, store: Store, *, clock: Clock) -> None:
        self.store, self.clock = store, clock
        self._purged_at: datetime | None = None

    async def answer(
        self, request: Request, key: ApiKey, body: bytes, respond: Callable[[], Awaitable[Response]]
    ) -> Response:
        """`respond()`, unless the request's Idempotency-Key was seen: then the kept answer, or a 409."""
        name = request.headers.get(HEADER)
        if name is None:
            return await respond()
        now = self.clock.now()
        request_print = fingerprint(request.method, request.url.path, body)
        claim = IdempotencyRecord(key.id, checked_key(name), request_print, now, now)
        kept = await run_in_threadpool(
            self.store.claim_idempotency_key, claim, stale_before=now - IN_FLIGHT_FOR,
            expired_before=now - KEPT_FOR,
        )
        if kept is not None:
            return replay(kept, claim, now)
        try:
            response = await respond()
        except BaseException:
            await run_in_threadpool(self.store.release_idempotency_key, claim)
            raise
        await self._keep(claim, response)
        await self._purge(now)
        return response

    async def _keep(self, claim: IdempotencyRecord, response: Response) -> None:
        if 200 <= response.status_code < 300:
            status, body = response.status_code, bytes(response.body).decode()
            await run_in_threadpool(self.store.save_idempotent_answer, claim, status=status, body=body)
        else:
            await run_in_threadpool(self.store.release_idempotency_key, claim)

    async def _purge(self, now: datetime) -> None:
        """Drop the records past their 24 hours, at most once an hour per process."""
        if self._purged_at is None or now - self._purged_at >= PURGE_EVERY:
            self._purged_at = now
            await run_in_threadpool(self.store.purge_idempotency_keys, before=now - KEPT_FOR)


def checked_key(name: str) -> str:
    if not 0 < len(name) <= MAX_KEY_LENGTH or not name.isprintable():
        raise Problem(400, "Invalid Idempotency-Key",
                      f"{HEADER} must be 1 to {MAX_KEY_LENGTH} printable characters; a UUID is a good one")
    return name


def fingerprint(method: str, path: str, body: bytes) -> str:
    digest = hashlib.sha256(f"{method} {path}\n".encode())
    digest.update(body)
    return digest.hexdigest()


def replay(kept: IdempotencyRecord, claim: IdempotencyRecord, now: datetime) -> Response:
    """The kept answer for the same request; a 409 for another request or one still in flight."""
    if kept.fingerprint != claim.fingerprint:
        raise Problem(
            409, "Idempotency-Key reused",
            f"{HEADER} {claim.key!r} was used {_ago(now - kept.created_at)} for another request (another "
            "route or body); a key stands for one request: send that request unchanged to get its answer, "
            "or use a new key for a new request",
        )
    if kept.is_in_flight:
        raise Problem(
            409, "Request in flight",
            f"the first request with {HEADER} {claim.key!r} is still being answered: retry in a moment "
            "to get its answer",
            headers={"Retry-After": "1"},
        )
    assert kept.status is not None and kept.body is not None
    return Response(kept.body, status_code=kept.status, media_type="application/json",
                    headers={REPLAYED: "true"})


def _ago(age: timedelta) -> str:
    seconds = int(age.total_seconds())
    if seconds < 120:
        return f"{seconds} s ago"
    if seconds < 7200:
        return f"{seconds // 60} min ago"
    return f"{seconds // 3600} h ago"
