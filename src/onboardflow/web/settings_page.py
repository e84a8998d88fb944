"""The Settings page: the channels as configured (secrets masked), the sending policies in force, API keys
(create, shown once; revoke), outbound webhooks (add, disable, enable) and users (add). Anyone signed in
may look; changes need the admin role. The same services as the CLI's `channels`, `apikey`, `webhooks`
and `user` commands."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Form, Request
from pydantic import ValidationError
from starlette.responses import Response

from onboardflow.api.dependencies import ClockDep, StoreDep, get_keyring
from onboardflow.api.keys import SCOPES, mint
from onboardflow.api.problems import Problem
from onboardflow.channels.config import ChannelConfigError, describe_channels
from onboardflow.core.outbound import EVENT_TYPES, EVERY_EVENT
from onboardflow.governance.people import ROLES, add_user
from onboardflow.outbound.subscriptions import (
    SubscriptionInvalid,
    create_subscription,
    disable_subscription,
    enable_subscription,
)
from onboardflow.policy_settings import PolicySettings
from onboardflow.ports import ApiKeyNotFound, Store, SubscriptionNotFound, User
from onboardflow.web.auth import Viewer, require_role, web_router
from onboardflow.web.rendering import go_to, page

router = web_router()
Admin = Annotated[User, Depends(require_role("admin"))]


@router.get("/settings")
def settings_page(request: Request, store: StoreDep, viewer: Viewer) -> Response:
    return _page(request, store)


def _page(request: Request, store: Store, *, status: int = 200, **said: Any) -> Response:
    channels, channel_error = _channels()
    policies, policy_error = _policies()
    return page(request, "settings.html", {
        "channels": channels, "channel_error": channel_error, "policies": policies,
        "policy_error": policy_error, "keys": store.api_keys(), "scopes": SCOPES,
        "subscriptions": store.subscriptions(), "event_types": (EVERY_EVENT, *EVENT_TYPES),
        "users": store.users(), "roles": ROLES, **said,
    }, status=status)


def _channels() -> tuple[list[tuple[str, str, str]], str | None]:
    try:
        return describe_channels(), None
    except ChannelConfigError as error:
        return [], str(error)


def _policies() -> tuple[list[tuple[str, str, str]], str | None]:
    """Each sending policy setting: its ONBOARDFLOW_ variable, value in force, and what it does."""
    try:
        settings = PolicySettings()
    except ValidationError as error:
        return [], str(error)
    values = settings.model_dump(mode="json")
    return [
        (f"ONBOARDFLOW_{name.upper()}", _shown(values[name]), field.description or "")
        for name, field in PolicySettings.model_fields.items()
    ], None


def _shown(value: Any) -> str:
    if value is None:
        return "off"
    if isinstance(value, dict) and set(value) == {"start", "end"}:
        return f"{value['start']}–{value['end']}"
    if isinstance(value, dict):
        return ", ".join(f"{key}: {_shown(item)}" for key, item in value.items()) or "none"
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "none"
    return str(value)


@router.post("/settings/keys")
def create_key(request: Request, store: StoreDep, clock: ClockDep, viewer: Admin,
               name: Annotated[str, Form()], scopes: Annotated[list[str] | None, Form()] = None) -> Response:
    """A new API key; its secret is shown on this answer only, and stored as a hash."""
    try:
        record, plain = mint(name, scopes or [], now=clock.now())
    except ValueError as error:
        return _page(request, store, status=422, key_error=str(error))
    store.save_api_key(record)
    return _page(request, store, new_key=plain, new_key_id=record.id)


@router.post("/settings/keys/{key_id}/revoke")
def revoke_key(request: Request, key_id: str, store: StoreDep, clock: ClockDep, viewer: Admin) -> Response:
    try:
        store.revoke_api_key(key_id, at=clock.now())
    except ApiKeyNotFound as error:
        raise Problem(404, "API key not found", str(error)) from None
    get_keyring(request).forget(key_id)  # refused at once by this server, not after the cache's seconds
    return go_to(request, "/settings#api-keys")


@router.post("/settings/webhooks")
def add_webhook(request: Request, store: StoreDep, clock: ClockDep, viewer: Admin,
                url: Annotated[str, Form()], events: Annotated[list[str] | None, Form()] = None,
                description: Annotated[str, Form()] = "") -> Response:
    try:
        create_subscription(store=store, now=clock.now(), url=url, events=events or [],
                            description=description)
    except SubscriptionInvalid as invalid:
        return _page(request, store, status=422, webhook_problems=invalid.problems)
    return go_to(request, "/settings#webhooks")


@router.post("/settings/webhooks/{subscription_id}/disable")
def disable_webhook(request: Request, subscription_id: str, store: StoreDep, clock: ClockDep, viewer: Admin,
                    reason: Annotated[str, Form()] = "") -> Response:
    try:
        disable_subscription(store=store, subscription_id=subscription_id, now=clock.now(),
                             reason=reason.strip() or f"disabled by {viewer.email}")
    except SubscriptionNotFound as error:
        raise Problem(404, "Webhook not found", str(error)) from None
    return go_to(request, "/settings#webhooks")


@router.post("/settings/webhooks/{subscription_id}/enable")
def enable_webhook(request: Request, subscription_id: str, store: StoreDep, viewer: Admin) -> Response:
    try:
        enable_subscription(store=store, subscription_id=subscription_id)
    except SubscriptionNotFound as error:
        raise Problem(404, "Webhook not found", str(error)) from None
    return go_to(request, "/settings#webhooks")


@router.post("/settings/users")
def save_user(request: Request, store: StoreDep, clock: ClockDep, viewer: Admin,
              email: Annotated[str, Form()], name: Annotated[str, Form()],
              roles: Annotated[list[str] | None, Form()] = None,
              password: Annotated[str, Form()] = "") -> Response:
    """Add a user, or change one's name and roles (and password, if one is given)."""
    try:
        add_user(store=store, email=email, name=name, roles=roles or [], password=password or None,
                 now=clock.now())
    except ValueError as error:
        return _page(request, store, status=422, user_error=str(error))
    return go_to(request, "/settings#users")
