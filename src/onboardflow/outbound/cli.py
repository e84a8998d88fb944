"""`onboardflow webhooks`: subscriptions to onboardflow's own events, and what became of their deliveries."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import datetime, timedelta
from enum import Enum
from typing import Annotated

import httpx
import typer
from rich.console import Console
from rich.table import Table

from onboardflow.core.outbound import (
    DELIVERY_STATUSES,
    EVENT_TYPES,
    EVERY_EVENT,
    OutboundDelivery,
    Subscription,
)
from onboardflow.engine.clock import SystemClock
from onboardflow.outbound.deliverer import Deliverer, rules
from onboardflow.outbound.subscriptions import (
    SubscriptionInvalid,
    address_warning,
    create_subscription,
    disable_subscription,
    enable_subscription,
    existing,
    rotate_secret,
)
from onboardflow.ports import SubscriptionNotFound
from onboardflow.settings import Settings

webhooks_app = typer.Typer(
    help="Outbound webhooks: endpoints that get onboardflow's own events, signed "
    "(docs/outbound-webhooks.md).",
    no_args_is_help=True,
)
console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)

DeliveryStatus = Enum("DeliveryStatus", {name: name for name in DELIVERY_STATUSES}, type=str)
SubscriptionId = Annotated[str, typer.Argument(help="The subscription's id, as `webhooks list` shows it")]


@contextmanager
def _store() -> Iterator:
    from onboardflow.store.sql import open_store

    store = open_store(Settings().database_url)
    try:
        yield store
    finally:
        store.close()


def _say(text: str, *, error: bool = False) -> None:
    (errors if error else console).print(text, highlight=False, markup=False)


@webhooks_app.command("add")
def add(
    url: Annotated[str, typer.Argument(help="Where to POST the events: https://… (or http://…)")],
    events: Annotated[str, typer.Option(help=f"Event types, comma-separated: {', '.join(EVENT_TYPES)}; "
                                             f"{EVERY_EVENT} for all")],
    description: Annotated[str, typer.Option(help="A note for people: whose endpoint, what for")] = "",
) -> None:
    """Subscribe an endpoint to events; prints its id and its signing secret (shown this once)."""
    settings = Settings()
    try:
        with _store() as store:
            subscription = create_subscription(store=store, now=SystemClock().now(), url=url, events=events,
                                               description=description)
    except SubscriptionInvalid as invalid:
        for problem in invalid.problems:
            _say(f"✗ {problem}", error=True)
        raise typer.Exit(2) from None
    _say(f"added {subscription.id}: {subscription.url} ({', '.join(subscription.events)})")
    _say(f"secret: {subscription.secret}")
    _say("keep the secret where the receiver verifies signatures with it; it is not shown again", error=True)
    _warn_if_private(subscription.url, settings)


def _warn_if_private(url: str, settings: Settings) -> None:
    warning = address_warning(url, allow_private=settings.outbound_webhooks_allow_private)
    if warning:
        _say(f"! {warning}", error=True)


@webhooks_app.command("list")
def list_subscriptions(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line, for scripts")] = False,
) -> None:
    """List subscriptions, oldest first (secrets are not shown)."""
    with _store() as store:
        found = store.subscriptions()
    if as_json:
        for subscription in found:
            typer.echo(json.dumps(_shown(subscription), default=_iso))
        return
    table = Table(title="webhook subscriptions")
    table.add_column("subscription", no_wrap=True, min_width=max((len(s.id) for s in found), default=12))
    for name in ("url", "events", "state", "description"):
        table.add_column(name, overflow="fold")  # whole, to copy
    for subscription in found:
        table.add_row(subscription.id, subscription.url, ", ".join(subscription.events), _state(subscription),
                      subscription.description)
    console.print(table)


def _iso(value: object) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def _shown(subscription: Subscription) -> dict:
    return {key: value for key, value in asdict(subscription).items() if key != "secret"}


def _state(subscription: Subscription) -> str:
    if subscription.enabled:
        return "enabled"
    return f"disabled {subscription.disabled_at:%Y-%m-%d %H:%M} UTC: {subscription.disabled_reason}"


@webhooks_app.command("remove")
def remove(subscription_id: SubscriptionId) -> None:
    """Remove a subscription and its deliveries: nothing more is sent to it."""
    with _store() as store:
        try:
            existing(store, subscription_id)
        except SubscriptionNotFound as error:
            _say(f"✗ {error}", error=True)
            raise typer.Exit(1) from None
        store.delete_subscription(subscription_id)
    _say(f"removed {subscription_id} and its deliveries")


@webhooks_app.command("enable")
def enable(subscription_id: SubscriptionId) -> None:
    """Deliver to a disabled subscription again, from the next event on."""
    with _store() as store:
        try:
            subscription = enable_subscription(store=store, subscription_id=subscription_id)
        except SubscriptionNotFound as error:
            _say(f"✗ {error}", error=True)
            raise typer.Exit(1) from None
    _say(f"enabled {subscription.id}: events from now on go to {subscription.url}")


@webhooks_app.command("disable")
def disable(
    subscription_id: SubscriptionId,
    reason: Annotated[str, typer.Option(help="Why, for whoever looks later")] = "disabled by hand",
) -> None:
    """Stop delivering to a subscription; its pending deliveries fail with the reason."""
    with _store() as store:
        try:
            disable_subscription(store=store, subscription_id=subscription_id, reason=reason,
                                 now=SystemClock().now())
        except SubscriptionNotFound as error:
            _say(f"✗ {error}", error=True)
            raise typer.Exit(1) from None
    _say(f"disabled {subscription_id}: {reason}")


GRACE_HELP = ("Hours the old secret still signs beside the new one (default: "
              "ONBOARDFLOW_OUTBOUND_WEBHOOKS_ROTATION_GRACE_HOURS, 24); 0 stops it now")


@webhooks_app.command("rotate")
def rotate(
    subscription_id: SubscriptionId,
    grace_hours: Annotated[float | None, typer.Option(min=0, max=24 * 30, help=GRACE_HELP)] = None,
) -> None:
    """Give a subscription a new signing secret (printed this once); the old one keeps signing too for the
    grace period, so the receiver can switch meanwhile."""
    settings = Settings()
    hours = settings.outbound_webhooks_rotation_grace_hours if grace_hours is None else grace_hours
    with _store() as store:
        try:
            rotated = rotate_secret(store=store, subscription_id=subscription_id, now=SystemClock().now(),
                                    grace=timedelta(hours=hours))
        except SubscriptionNotFound as error:
            _say(f"✗ {error}", error=True)
            raise typer.Exit(1) from None
    _say(f"rotated the secret of {rotated.id}")
    _say(f"secret: {rotated.secret}")
    until = rotated.previous_secret_until
    if until is None:
        _say("the old secret no longer signs: give the receiver the new one now", error=True)
    else:
        _say(f"the old secret signs too until {until:%Y-%m-%d %H:%M:%S} UTC: give the receiver the new one "
             "by then", error=True)


@webhooks_app.command("deliveries")
def deliveries(
    status: Annotated[DeliveryStatus | None, typer.Option(help="Only deliveries in this state")] = None,
    subscription: Annotated[str | None, typer.Option(help="Only this subscription's")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000, help="At most this many, newest first")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line, for scripts")] = False,
) -> None:
    """What became of each delivery, newest first: its attempts and the last answer or error."""
    with _store() as store:
        found = store.deliveries(status=status and status.value, subscription_id=subscription, limit=limit)
    if as_json:
        for delivery in found:
            typer.echo(json.dumps(asdict(delivery), default=_iso))
        return
    table = Table(title=f"webhook deliveries ({status.value if status else 'all'})")
    width = max((len(d.id) for d in found), default=8)
    table.add_column("delivery (webhook-id)", no_wrap=True, min_width=width)
    for name in ("subscription", "type", "status", "when", "last answer"):
        table.add_column(name, overflow="fold")
    for delivery in found:
        status = f"{delivery.status} ({delivery.attempts} attempt{'s' * (delivery.attempts != 1)})"
        table.add_row(delivery.id, delivery.subscription_id, delivery.event_type, status, _when(delivery),
                      _last(delivery))
    console.print(table)


def _when(delivery: OutboundDelivery) -> str:
    if delivery.status == "pending":
        return f"next {delivery.next_attempt_at:%Y-%m-%d %H:%M:%S}" if delivery.next_attempt_at else ""
    return f"{delivery.finished_at:%Y-%m-%d %H:%M:%S}" if delivery.finished_at else ""


def _last(delivery: OutboundDelivery) -> str:
    return delivery.error or (str(delivery.response_status) if delivery.response_status else "")


@webhooks_app.command("test")
def send_test(subscription_id: SubscriptionId) -> None:
    """Send a webhook.test event to a subscription now, once, and say what its endpoint answered."""
    settings = Settings()
    with _store() as store, httpx.Client(follow_redirects=False) as http:
        try:
            subscription = existing(store, subscription_id)
        except SubscriptionNotFound as error:
            _say(f"✗ {error}", error=True)
            raise typer.Exit(1) from None
        deliverer = Deliverer(store, clock=SystemClock(), http=http, rules=rules(settings))
        delivery, outcome = deliverer.send_test(subscription)
    if outcome.kind != "delivered":
        _say(f"✗ webhook.test to {subscription.url} failed: {outcome.error}", error=True)
        raise typer.Exit(1)
    _say(f"delivered webhook.test to {subscription.url}: {outcome.status} (webhook-id {delivery.id})")
