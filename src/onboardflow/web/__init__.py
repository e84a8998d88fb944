"""The web UI: server-rendered pages (Jinja2, with htmx for the interactive parts) in the API's own process,
behind a sign-in, every state-changing request checked for the session's CSRF token (docs/web.md)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from onboardflow.settings import Settings
from onboardflow.web import (
    auth,
    customers,
    escalations,
    journeys,
    new_journey,
    outcomes,
    playbooks,
    previews,
    review,
    settings_page,
    simulate,
)
from onboardflow.web.rendering import HERE
from onboardflow.web.security import WebSessions

# the paths whose requests carry the session cookie: every page's
PREFIXES = ("/login", "/logout", "/journeys", "/review", "/outcomes", "/playbooks", "/simulate", "/escalations",
            "/customers", "/settings")


def install_web(app: FastAPI, settings: Settings) -> None:
    """Mount the pages, their static files and the session cookie on `app`."""
    # New from template before the journey pages: /journeys/new is not a journey
    for module in (auth, new_journey, review, playbooks, journeys, previews, simulate, escalations, customers,
                   outcomes, settings_page):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.add_exception_handler(auth.LoginRequired, auth.on_login_required)
    app.add_middleware(WebSessions, settings=settings, prefixes=PREFIXES)
