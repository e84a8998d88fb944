"""The preference page, `GET/POST /preferences/{token}`: per channel, which marketing topics a customer
wants. Each change is a ledger line with the request as evidence."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from onboardflow.api import pages
from onboardflow.api.dependencies import ClockDep, SettingsDep, StoreDep, TokenDep, request_evidence
from onboardflow.compliance.consent import preferences, update_preferences

router = APIRouter(tags=["preferences"], responses={
    400: {"description": "The link is not one this server signed: an HTML page says what to do instead"},
    503: {"description": "The server has no ONBOARDFLOW_UNSUBSCRIBE_SECRET to check links with"},
})
UNSUBSCRIBE_ALL = "unsubscribe-all"


@router.get("/preferences/{token}", response_class=HTMLResponse, name="preferences_page",
            summary="Preference page")
def show(claims: TokenDep, store: StoreDep, settings: SettingsDep, request: Request) -> HTMLResponse:
    """Per channel, a box per marketing topic, ticked where the ledger allows it: the link's channel and
    every channel the ledger names. No API key: the signed token (the unsubscribe link's) is the
    permission."""
    current = preferences(store=store, customer_id=claims.customer_id, channel=claims.channel)
    body = pages.preferences_page(sender=settings.sender_name, preferences=current, action=request.url.path)
    return HTMLResponse(body, headers=pages.HEADERS)


@router.post("/preferences/{token}", response_class=HTMLResponse, summary="Preference page: save")
def save(
    claims: TokenDep,
    store: StoreDep,
    settings: SettingsDep,
    clock: ClockDep,
    request: Request,
    subscribe: Annotated[list[str] | None, Form()] = None,
    action: Annotated[str | None, Form()] = None,
) -> HTMLResponse:
    """Record what changed, a ledger line per box (`source: preferences`, the request as evidence);
    checkboxes left out of the form are unticked, as browsers send them; `action=unsubscribe-all`
    withdraws every topic shown."""
    wanted = [] if action == UNSUBSCRIBE_ALL else [tuple(item.split(":", 1)) for item in subscribe or ()]
    after, written = update_preferences(
        store=store, customer_id=claims.customer_id, channel=claims.channel, wanted=wanted, now=clock.now(),
        evidence=request_evidence(request, method="preferences-page"),
        text_version=settings.consent_text_version,
    )
    body = pages.preferences_page(
        sender=settings.sender_name, preferences=after, action=request.url.path, saved=len(written)
    )
    return HTMLResponse(body, headers=pages.HEADERS)
