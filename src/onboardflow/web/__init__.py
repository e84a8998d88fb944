"""The web UI: server-rendered pages (Jinja2, with htmx for the interactive parts) in the API's own process,
behind a sign-in, every state-changing request checked for the session's CSRF token (docs/web.md)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from onboardflow.settings import Settings
from onboardflow.web import auth, customers, escalations, journeys, previews, settings_page, simulate
from onboardflow.web.rendering import HERE
from onboardflow.web.security import WebSessions

# the paths whose requests carry the session cookie: every page's
PREFIXES = ("/login", "/logout", "/journeys", "/simulate", "/escalations", "/customers", "/settings")


def install_web(app: FastAPI, settings: Settings) -> None:
    """Mount the pages, their static files and the session cookie on `app`."""
    for module in (auth, journeys, previews, simulate, escalations, customers, settings_page):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.add_exception_handler(auth.LoginRequired, auth.on_login_required)
    app.add_middleware(WebSessions, settings=settings, prefixes=PREFIXES)
