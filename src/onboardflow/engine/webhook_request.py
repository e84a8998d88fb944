"""The HTTP request of a webhook call: URL and JSON body rendered with Liquid, signed per Standard Webhooks,
and sent once (`exchange`): the part the webhook step and outbound webhooks share.

Journey authors write the URL and the body; customers' data fills them. A template that cannot render,
a body that is not JSON or a signing secret that is missing is a mistake in the journey or its set-up:
sending again cannot fix it, so these end the call at once with an error that says what to fix.
"""

from __future__ import annotations

import base64
import json
import math
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import httpx
from liquid import BoundTemplate
from liquid.exceptions import LiquidError, ResourceLimitError
from liquid.extra.filters import JSON
from standardwebhooks import Webhook

from onboardflow.core.effects import CallWebhook
from onboardflow.messages.liquid import MessageEnvironment

RESPONSE_LIMIT = 64 * 1024  # bytes of an answer kept; a longer one is read no further
_HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_HEADER_VALUE = re.compile(r"^[\x20-\x7e\t]*$")


class CallRefused(ValueError):
    """The call cannot be made as the journey wrote it; the message says what to fix."""


class WebhookEnvironment(MessageEnvironment):
    """Liquid with the message templates' limits: templates come from journey files and render inside
    workers, so a runaway loop or a huge body stops with an error instead of taking a worker down."""


LIQUID = WebhookEnvironment()
# `{{ customer.email | json }}` writes a JSON value, quoted and escaped; a missing value writes null
LIQUID.add_filter("json", JSON(default=lambda value: None))


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes


def build_request(call: CallWebhook, *, environ: Mapping[str, str], now: datetime) -> Request:
    """The request for this call, signed when the step names a secret; CallRefused if it cannot be made."""
    scope = plain(call.scope)
    url = _checked_url(call, render(call, "url", call.url, scope))
    body = "" if call.body is None else _checked_json(call, render(call, "body", call.body, scope))
    headers = _checked_headers(call)
    if call.body is not None:
        headers.setdefault("content-type", "application/json")
    if call.secret:
        headers.update(signature_headers(call, signer(call, environ), body, now))
    return Request(call.method, url, headers, body.encode())


def where(call: CallWebhook) -> str:
    return f"webhook step {call.step_id!r} of journey {call.journey_id} v{call.version}"


@lru_cache(maxsize=256)
def compiled(template: str) -> BoundTemplate:
    """A journey's templates are the same for all its calls: parsed once."""
    return LIQUID.from_string(template)


def render(call: CallWebhook, field: str, template: str, scope: Mapping[str, Any]) -> str:
    try:
        return compiled(template).render(**scope)
    except ResourceLimitError as error:
        raise CallRefused(f"{where(call)}: its {field} template stopped: {error.message} "
                          "(templates have resource limits: loop over fewer items or write less)") from None
    except LiquidError as error:
        raise CallRefused(f"{where(call)}: its {field} template does not render: {error.message}") from None


def plain(value: Any) -> Any:
    """The scope as a template shows it: datetimes in ISO 8601, as a JSON body wants them."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


def _checked_url(call: CallWebhook, text: str) -> str:
    text = text.strip()
    try:
        url = httpx.URL(text)
    except httpx.InvalidURL as error:
        raise CallRefused(f"{where(call)}: its url renders to {text!r}, not a URL: {error}") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise CallRefused(f"{where(call)}: its url renders to {text!r}; it needs http:// or https:// and "
                          "a host (is a value the url uses missing for this customer?)")
    return text


def _checked_headers(call: CallWebhook) -> dict[str, str]:
    for name, value in call.headers.items():
        if not _HEADER_NAME.match(name):
            raise CallRefused(f"{where(call)}: {name!r} is not an HTTP header name (letters, digits, -)")
        if not _HEADER_VALUE.match(value):
            raise CallRefused(f"{where(call)}: header {name} holds {value!r}; a header value is printable "
                              "ASCII on one line")
    return {name.lower(): value for name, value in call.headers.items()}


def _checked_json(call: CallWebhook, text: str) -> str:
    try:
        json.loads(text)
    except ValueError as error:
        shown = text if len(text) <= 200 else text[:200] + "…"
        raise CallRefused(
            f"{where(call)}: its body must render to JSON but does not ({error}): {shown!r}. "
            "Write values with the json filter, e.g. {\"email\": {{ customer.email | json }}}"
        ) from None
    return text


def signer(call: CallWebhook, environ: Mapping[str, str]) -> Webhook:
    name = call.secret or ""
    value = environ.get(name)
    if not value:
        raise CallRefused(f"{where(call)}: environment variable {name} is not set; it must hold the signing "
                          "secret the receiver shares (whsec_ and base64, as Standard Webhooks has it)")
    try:
        key = value.removeprefix("whsec_")
        if not base64.b64decode(key + "=" * (-len(key) % 4), validate=True):
            raise ValueError("empty")
        return Webhook(value)
    except ValueError:  # binascii.Error is one
        raise CallRefused(
            f"environment variable {name} (the secret of {where(call)}) is not a Standard Webhooks "
            "secret: it must be whsec_ followed by base64 of 24 to 64 random bytes"
        ) from None


def signature_headers(call: CallWebhook, webhook: Webhook, body: str, now: datetime) -> dict[str, str]:
    """`webhook-id` is the call's id on every attempt, so a receiver can drop a retry it has seen."""
    return signed(call.call_id, webhook, body, now)


def signed(message_id: str, webhook: Webhook | Sequence[Webhook], body: str, now: datetime) -> dict[str, str]:
    """The Standard Webhooks headers of one message: its id, the time, and the signature of them and body;
    with several signers (a secret being rotated), one signature each, space-separated, as the spec allows."""
    moment = now.astimezone(UTC)
    signers = [webhook] if isinstance(webhook, Webhook) else webhook
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(math.floor(moment.timestamp())),
        "webhook-signature": " ".join(signer.sign(message_id, moment, body) for signer in signers),
    }


@dataclass(frozen=True, slots=True)
class Reply:
    """What an endpoint answered: its status, headers, and body up to RESPONSE_LIMIT bytes (`complete`
    says whether that was all of it)."""

    status: int
    reason: str
    headers: httpx.Headers
    body: bytes
    complete: bool


def exchange(http: httpx.Client, request: Request, *, seconds: float,
             extensions: dict[str, Any] | None = None) -> Reply:
    """Send the request once, never following a redirect; the whole answer must be in within `seconds`.

    httpx's errors pass through (`unreachable` says them for people): what they mean is the caller's call.
    """
    deadline = time.monotonic() + seconds  # a duration, measured: not a time of day, so no clock's business
    timeout = httpx.Timeout(seconds)
    with http.stream(request.method, request.url, headers=request.headers, content=request.body,
                     timeout=timeout, follow_redirects=False, extensions=extensions) as response:
        body, complete = read_capped(response, deadline=deadline)
        return Reply(response.status_code, response.reason_phrase, response.headers, body, complete)


def unreachable(error: httpx.HTTPError, *, host: str, seconds: float) -> str:
    """What went wrong when no answer could be read, naming the host."""
    if isinstance(error, httpx.TimeoutException):
        return f"{host} did not answer within {seconds:g}s"
    if isinstance(error, httpx.TransportError):
        return f"could not reach {host}: {type(error).__name__}: {error}"
    # an answer httpx cannot read: a broken compressed body, say
    return f"{host} answered something unreadable: {type(error).__name__}: {error}"


def read_capped(response: httpx.Response, *, deadline: float) -> tuple[bytes, bool]:
    """The answer's body up to RESPONSE_LIMIT bytes, and whether that was all of it.

    The whole answer must be in by the deadline: a receiver that trickles bytes times out too.
    """
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        _check(deadline, response)
        chunks.append(chunk)
        size += len(chunk)
        if size > RESPONSE_LIMIT:
            return b"".join(chunks)[:RESPONSE_LIMIT], False
    _check(deadline, response)
    return b"".join(chunks), True


def _check(deadline: float, response: httpx.Response) -> None:
    if time.monotonic() > deadline:
        raise httpx.ReadTimeout("the answer took longer than the time-out", request=response.request)


def excerpt(body: bytes) -> str:
    """The start of an answer, to show with an error; empty if it said nothing."""
    text = body[:300].decode("utf-8", "replace").strip()
    return f" (it said: {text})" if text else ""
