"""One-click unsubscribe (RFC 8058): `POST /unsubscribe/{token}` works without a page; `GET` shows one that
confirms first, since mail scanners follow links and must not unsubscribe anyone by doing so."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from onboardflow.api import pages
from onboardflow.api.dependencies import ClockDep, SettingsDep, StoreDep, TokenDep, request_evidence
from onboardflow.api.problems import Problem, wants_html
from onboardflow.compliance.consent import unsubscribe
from onboardflow.compliance.gdpr import iso
from onboardflow.compliance.tokens import UnsubscribeToken
from onboardflow.settings import Settings

ONE_CLICK = "One-Click"
LINK_PROBLEMS = {
    400: {"description": "The link is not one this server signed (changed, cut short, or another secret): a "
                         "problem document for programs, an HTML page for browsers"},
    503: {"description": "The server has no ONBOARDFLOW_UNSUBSCRIBE_SECRET to check links with"},
}
router = APIRouter(tags=["unsubscribe"], responses=LINK_PROBLEMS)


@router.get("/unsubscribe/{token}", response_class=HTMLResponse, summary="Unsubscribe: confirmation page")
def confirm_page(token: str, claims: TokenDep, settings: SettingsDep, request: Request) -> HTMLResponse:
    """The page an unsubscribe link opens: it asks to confirm, and its button POSTs the one-click body.
    Opening the link changes nothing, so mail scanners that follow links unsubscribe no one. No API key:
    the signed token in the path is the permission."""
    body = pages.confirm_unsubscribe(
        sender=settings.sender_name, channel=claims.channel, topic=claims.topic, action=request.url.path,
        preferences=_preferences_link(token, request),
    )
    return HTMLResponse(body, headers=pages.HEADERS)


@router.post("/unsubscribe/{token}", summary="Unsubscribe: one click (RFC 8058)")
def one_click(
    token: str,
    claims: TokenDep,
    store: StoreDep,
    settings: SettingsDep,
    clock: ClockDep,
    request: Request,
    list_unsubscribe: Annotated[str | None, Form(alias="List-Unsubscribe")] = None,
    via: Annotated[str | None, Form()] = None,
) -> Response:
    """One-click unsubscribe (RFC 8058), as mail clients POST it (`List-Unsubscribe=One-Click`, form-encoded
    or multipart), and as the confirmation page's button does: withdraws marketing (or the token's topic)
    on the token's channel, as a ledger line with the request as evidence. Again: 200 with `recorded:
    false`, no new line. No API key: the signed token in the path is the permission."""
    if list_unsubscribe is not None and list_unsubscribe != ONE_CLICK:
        raise Problem(400, "Not a one-click unsubscribe",
                      f"the body must be List-Unsubscribe={ONE_CLICK} (RFC 8058); got {list_unsubscribe!r}")
    evidence = request_evidence(request, method="confirm-page" if via == "page" else "one-click")
    record, is_new = unsubscribe(store=store, token=claims, now=clock.now(), evidence=evidence)
    if wants_html(request):
        return HTMLResponse(_done_page(claims, settings, is_new, _preferences_link(token, request)),
                            headers=pages.HEADERS)
    return JSONResponse(
        {"status": "unsubscribed", "channel": record.channel, "purpose": record.purpose, "recorded": is_new,
         "since": iso(record.at)},
        headers={"Cache-Control": "no-store"},
    )


def _done_page(claims: UnsubscribeToken, settings: Settings, is_new: bool, preferences: str) -> str:
    return pages.unsubscribed(
        sender=settings.sender_name, channel=claims.channel, topic=claims.topic, already=not is_new,
        preferences=preferences,
    )


def _preferences_link(token: str, request: Request) -> str:
    """The preference page of the same customer and channel: the same signature covers it."""
    return str(request.url_for("preferences_page", token=token).path)

