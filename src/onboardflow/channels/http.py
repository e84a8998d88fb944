"""HTTP for provider adapters: one httpx client per provider, explicit time-outs, failures as DeliveryError.

Whatever httpx raises stops here and becomes a DeliveryError that names the provider and what happened,
without the request's credentials (they travel in headers, never in what is shown).
"""

from __future__ import annotations

import logging
import math
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from onboardflow.messages.content import DeliveryError
from onboardflow.ports import Clock

log = logging.getLogger("onboardflow.channels")
RETRY_AFTER_STATUSES = (429, 503)  # the answers whose Retry-After says when to come back


def shown_url(url: str | httpx.URL) -> str:
    """A URL fit to show: scheme, host, port and path; no user info, query or fragment (they may hold keys)"""
    parts = urlsplit(str(url))
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


class ProviderClient:
    """POSTs to one provider and hands back its answer; no answer, or no connection, is a DeliveryError."""

    def __init__(
        self,
        provider: str,
        *,
        timeout: float,
        clock: Clock,
        headers: dict[str, str] | None = None,
        auth: httpx.Auth | tuple[str, str] | None = None,
    ) -> None:
        self.provider = provider
        self.timeout = timeout
        self.clock = clock
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout), headers=headers, auth=auth, follow_redirects=False
        )

    def post(self, url: str, **request: Any) -> httpx.Response:
        try:
            response = self._client.post(url, **request)
        except httpx.TimeoutException:
            raise DeliveryError(
                f"{self.provider} did not answer within {self.timeout:g} s ({shown_url(url)})"
            ) from None
        except httpx.HTTPError as error:
            raise DeliveryError(
                f"could not reach {self.provider} at {shown_url(url)}: {_described(error)}"
            ) from None
        log.debug("%s answered %s for %s", self.provider, response.status_code, shown_url(url))
        return response

    def retry_after(self, response: httpx.Response, *, rate_limited: bool = False) -> float | None:
        """The provider's Retry-After on a 429 or 503 (or an answer the adapter knows for a rate limit),
        in seconds; None otherwise: a Retry-After on another failure is not the provider saying when."""
        if response.status_code not in RETRY_AFTER_STATUSES and not rate_limited:
            return None
        return retry_after_seconds(response.headers.get("retry-after"), now=self.clock.now())

    def close(self) -> None:
        self._client.close()


def retry_after_seconds(value: str | None, *, now: datetime) -> float | None:
    """Seconds to wait from an HTTP Retry-After value (seconds, or a date); None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        seconds = None
    if seconds is not None:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())


def json_body(response: httpx.Response) -> dict[str, Any]:
    """The answer's JSON object, or {} when it has none (an HTML error page from a proxy, say)."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _described(error: httpx.HTTPError) -> str:
    cause = error.__cause__ or error.__context__
    text = str(error) or str(cause or "") or type(error).__name__
    return text.splitlines()[0][:200]
