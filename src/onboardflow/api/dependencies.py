"""What routes are given: the store, settings and clock of the app, and the admin check.

`require_admin` is the one place that decides who may use the admin API: API keys with scopes replace it
later without touching the routes.
"""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from onboardflow.api.problems import Problem
from onboardflow.compliance.tokens import UnsubscribeToken, verify
from onboardflow.ports import Clock, Store
from onboardflow.settings import Settings


def get_store(request: Request) -> Store:
    return request.app.state.store


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_clock(request: Request) -> Clock:
    return request.app.state.clock


StoreDep = Annotated[Store, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
ClockDep = Annotated[Clock, Depends(get_clock)]

_bearer = HTTPBearer(auto_error=False, description="The admin token (ONBOARDFLOW_ADMIN_TOKEN)")


def require_admin(
    settings: SettingsDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> None:
    """401 without a bearer token, 403 with a wrong one (or when the server has no admin token set)."""
    if credentials is None:
        raise Problem(
            401, "Authentication required", "send the admin token: `Authorization: Bearer <token>`",
            headers={"WWW-Authenticate": "Bearer"},
        )
    expected = settings.admin_token
    if expected is None:
        raise Problem(403, "Admin API disabled", "the server has no admin token: set ONBOARDFLOW_ADMIN_TOKEN")
    if not hmac.compare_digest(credentials.credentials.encode(), expected.get_secret_value().encode()):
        raise Problem(403, "Forbidden", "this token does not give access to the admin API")


def unsubscribe_token(token: str, settings: SettingsDep) -> UnsubscribeToken:
    """The claims of the `{token}` in the path; TokenError (400) when it is not one we signed."""
    secret = settings.unsubscribe_secret
    if secret is None:
        raise Problem(
            503, "Unsubscribe links are not set up",
            "the server has no signing secret: set ONBOARDFLOW_UNSUBSCRIBE_SECRET to the one the links "
            "were made with",
        )
    return verify(token, secret.get_secret_value())


TokenDep = Annotated[UnsubscribeToken, Depends(unsubscribe_token)]


def request_evidence(request: Request, *, method: str) -> dict[str, Any]:
    """What the ledger keeps as proof of a request: how it came, from where, and with what client."""
    evidence: dict[str, Any] = {"method": method}
    if request.client is not None:
        evidence["ip"] = request.client.host
    if request.headers.get("user-agent"):
        evidence["user_agent"] = request.headers["user-agent"][:300]
    return evidence
