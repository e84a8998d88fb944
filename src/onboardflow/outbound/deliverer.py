"""The deliverer: takes due outbound deliveries, POSTs each to its subscription's URL signed per Standard
Webhooks, and records what came of it.

A 2xx delivers. A 410 Gone disables the subscription (the receiver asked to stop) and fails its pending
deliveries. Any other answer, a redirect included (redirects are never followed), a time-out or no
connection is tried again on RETRY_SCHEDULE, 5 seconds to 10 hours apart, then failed for good. A URL that
leads to a private, loopback, link-local or reserved address fails at once unless settings allow them.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import httpx
from standardwebhooks import Webhook

import onboardflow
from onboardflow.channels.http import RETRY_AFTER_STATUSES, retry_after_seconds
from onboardflow.core.outbound import (
    RETRY_SCHEDULE,
    OutboundDelivery,
    Subscription,
    delivery_of,
    next_retry,
    webhook_test_event,
)
from onboardflow.engine.webhook_request import (
    Reply,
    Request,
    excerpt,
    exchange,
    signed,
    unreachable,
)
from onboardflow.outbound.addresses import (
    AddressRefused,
    HostUnresolved,
    Resolve,
    Target,
    system_resolve,
    targets,
)
from onboardflow.ports import Clock
from onboardflow.settings import Settings

DEFAULT_TIMEOUT = 15.0  # seconds for the whole answer, as Svix gives
MAX_ADDRESSES = 2  # addresses of a host tried in one attempt, when the ones before refuse the connection
CLAIMED_TOGETHER = 5  # deliveries claimed at once: one query for several, and their lease still holds
LEASE_SLACK = 120  # seconds of a lease beyond the time-outs: name look-ups, the store, a slow machine
USER_AGENT = f"onboardflow-webhooks/{onboardflow.__version__}"
GONE = 410
MIN_RETRY_AFTER = timedelta(seconds=1)
MAX_RETRY_AFTER = max(RETRY_SCHEDULE)  # an endpoint's Retry-After is honoured up to the longest wait (10 h)

log = logging.getLogger("onboardflow.outbound")


@dataclass
class OutboundResult:
    delivered: int = 0
    retried: int = 0
    failed: int = 0
    disabled: int = 0  # subscriptions disabled by a 410

    @property
    def total(self) -> int:
        return self.delivered + self.retried + self.failed

    def add(self, other: OutboundResult) -> None:
        for name in ("delivered", "retried", "failed", "disabled"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one attempt came to: delivered, retry (on the schedule), gone (410), or failed at once."""

    kind: str
    status: int | None = None
    error: str | None = None
    retry_after: timedelta | None = None  # the endpoint's own wait (429 or 503 with Retry-After)


@dataclass(frozen=True, slots=True)
class DeliveryRules:
    """What the settings say about outbound deliveries (ONBOARDFLOW_OUTBOUND_WEBHOOKS_...)."""

    allow_private: bool = False
    timeout: float = DEFAULT_TIMEOUT


def rules(settings: Settings) -> DeliveryRules:
    """What the settings say about outbound deliveries, for the worker, `webhooks test` and the API."""
    return DeliveryRules(allow_private=settings.outbound_webhooks_allow_private,
                         timeout=settings.outbound_webhooks_timeout)


class Deliverer:
    """Delivers what is due, a few claimed at a time and sent one after another, on the store and clock
    of the engine."""

    def __init__(self, store, *, clock: Clock, http: httpx.Client, rules: DeliveryRules = DeliveryRules(),
                 resolve: Resolve = system_resolve) -> None:
        self.store = store
        self.clock = clock
        self.http = http
        self.rules = rules
        self.resolve = resolve

    def deliver_due(self, *, limit: int = 50) -> OutboundResult:
        """Attempt every delivery due by now (up to `limit`), a few claimed at a time at the clock's time
        then: few enough that slow receivers cannot make the leases of the ones still waiting run out."""
        result = OutboundResult()
        lease = lease_seconds(self.rules.timeout)
        while result.total < limit:
            wanted = min(CLAIMED_TOGETHER, limit - result.total)
            claimed = self.store.claim_deliveries(self.clock.now(), wanted, lease_seconds=lease)
            if not claimed:
                break
            for delivery in claimed:
                subscription = self.store.subscription(delivery.subscription_id)
                if subscription is None or not subscription.enabled:
                    continue  # removed or disabled since the claim (a 410 just now): nothing to send
                self.settle(delivery, subscription, self.attempt(delivery, subscription), result)
        return result

    def attempt(self, delivery: OutboundDelivery, subscription: Subscription) -> Outcome:
        """POST the delivery once; whatever goes wrong becomes an Outcome, never an exception."""
        try:
            return self._attempt(delivery, subscription)
        except Exception as error:  # a fault of ours must not stall every delivery behind this one
            log.exception("outbound delivery %s could not be made", delivery.id)
            said = f"the delivery could not be made ({type(error).__name__}: {error})"
            return Outcome("retry", error=f"{said}; this is a fault in onboardflow, please report it")

    def _attempt(self, delivery: OutboundDelivery, subscription: Subscription) -> Outcome:
        try:
            found = targets(subscription.url, allow_private=self.rules.allow_private, resolve=self.resolve)
        except AddressRefused as refused:
            return Outcome("failed", error=str(refused))
        except HostUnresolved as error:
            return Outcome("retry", error=str(error))
        now = self.clock.now()
        try:  # during a rotation's grace period, signed with the new secret and the old one
            signers = [Webhook(secret) for secret in subscription.signing_secrets(now)]
        except Exception:  # the library's own errors for a secret it cannot read
            return Outcome("failed", error=f"subscription {subscription.id}'s secret is not a Standard "
                                           "Webhooks secret (whsec_ and base64): rotate it")
        headers = {"content-type": "application/json", "user-agent": USER_AGENT,
                   **signed(delivery.id, signers, delivery.body, now)}
        return self._send(delivery, found, headers, host=httpx.URL(subscription.url).host)

    def _send(self, delivery: OutboundDelivery, found: list[Target], headers: dict[str, str], *,
              host: str) -> Outcome:
        """Send to the first address that takes a connection; one that refuses it leaves nothing sent, so
        the next may be tried at once."""
        seconds = self.rules.timeout
        outcome = Outcome("retry", error=f"{host} has no address to send to")
        for target in found[:MAX_ADDRESSES]:
            request = Request("POST", target.url, {**headers, **target.headers}, delivery.body.encode())
            try:
                reply = exchange(self.http, request, seconds=seconds, extensions=target.extensions)
            except (httpx.ConnectError, httpx.ConnectTimeout) as failed:
                outcome = Outcome("retry", error=unreachable(failed, host=host, seconds=seconds))
                continue
            except httpx.HTTPError as failed:
                return Outcome("retry", error=unreachable(failed, host=host, seconds=seconds))
            return judge(reply, host=host, now=self.clock.now())
        return outcome

    def settle(self, delivery: OutboundDelivery, subscription: Subscription, outcome: Outcome,
               result: OutboundResult) -> None:
        """Record the attempt: delivered, pending until the next on the schedule, or failed for good."""
        now, attempts = self.clock.now(), delivery.attempts + 1
        record = self.store.record_attempt
        if outcome.kind == "delivered":
            record(delivery.id, status="delivered", at=now, attempts=attempts, response_status=outcome.status)
            result.delivered += 1
            return
        wait = retry_wait(attempts, outcome) if outcome.kind == "retry" else None
        if wait is not None:
            record(delivery.id, status="pending", at=now, attempts=attempts, next_attempt_at=now + wait,
                   response_status=outcome.status, error=outcome.error)
            result.retried += 1
            return
        error = outcome.error or "failed"
        if outcome.kind == "retry":
            error = f"gave up after {attempts} attempt(s); the last: {error}"
        record(delivery.id, status="failed", at=now, attempts=attempts, response_status=outcome.status,
               error=error)
        result.failed += 1
        if outcome.kind == "gone":
            self._disable(subscription, error, now)
            result.disabled += 1

    def _disable(self, subscription: Subscription, reason: str, now: datetime) -> None:
        current = self.store.subscription(subscription.id)  # as it is now, whatever changed since the claim
        if current is None:
            return
        log.warning("outbound webhook subscription %s disabled: %s", subscription.id, reason)
        disabled = replace(current, enabled=False, disabled_reason=reason, disabled_at=now)
        self.store.update_subscription(disabled)

    def send_test(self, subscription: Subscription) -> tuple[OutboundDelivery, Outcome]:
        """Send a webhook.test event to the subscription now, enabled or not: one attempt, recorded as
        delivered or failed, never retried; nothing else changes (a 410 here disables nothing). Answers the
        delivery as recorded, and the attempt's outcome."""
        now = self.clock.now()
        event = webhook_test_event(f"test_{secrets.token_hex(8)}", subscription.id, at=now)
        delivery = delivery_of(event, subscription.id)
        self.store.add_deliveries([delivery])
        outcome = self.attempt(delivery, subscription)
        status, at = ("delivered" if outcome.kind == "delivered" else "failed"), self.clock.now()
        self.store.record_attempt(delivery.id, status=status, at=at, attempts=1,
                                  response_status=outcome.status, error=outcome.error)
        recorded = replace(delivery, status=status, attempts=1, response_status=outcome.status,
                           error=outcome.error, next_attempt_at=None, finished_at=at)
        return recorded, outcome


def lease_seconds(timeout: float) -> int:
    """How long claimed deliveries are no one else's: long enough for each of them to try every address
    it may try for the whole time-out, and then some."""
    return int(CLAIMED_TOGETHER * MAX_ADDRESSES * timeout) + LEASE_SLACK


def retry_wait(attempts: int, outcome: Outcome) -> timedelta | None:
    """The wait before the next attempt: the endpoint's Retry-After when it gave one (between one second and
    MAX_RETRY_AFTER), else the schedule's; None when the attempts are used up, whatever it asked."""
    wait = next_retry(attempts)
    if wait is None or outcome.retry_after is None:
        return wait
    return min(max(outcome.retry_after, MIN_RETRY_AFTER), MAX_RETRY_AFTER)


def judge(reply: Reply, *, host: str, now: datetime) -> Outcome:
    status = reply.status
    if 200 <= status < 300:
        return Outcome("delivered", status)
    said = f"{host} answered {status} {reply.reason}".rstrip()
    if status == GONE:
        stop = "the endpoint asked for no more deliveries, so the subscription was disabled"
        return Outcome("gone", status, f"{said}: {stop} (`onboardflow webhooks enable ID` resumes it)")
    if 300 <= status < 400:
        location = reply.headers.get("location", "no Location")
        return Outcome("retry", status, f"{said}: redirects are not followed; give the subscription the "
                                        f"final URL ({location})")
    wait = None
    if status in RETRY_AFTER_STATUSES:
        seconds = retry_after_seconds(reply.headers.get("retry-after"), now=now)
        wait = None if seconds is None else timedelta(seconds=min(seconds, MAX_RETRY_AFTER.total_seconds()))
    return Outcome("retry", status, f"{said}{excerpt(reply.body)}", retry_after=wait)
