"""The app factory: the store, settings and clock are injected, so tests and the CLI build the same app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from onboardflow import __version__
from onboardflow.api import customers, escalation, inbox, preferences, unsubscribe, webhooks
from onboardflow.api.keys import KeyRing
from onboardflow.api.problems import install_problem_handlers
from onboardflow.engine.clock import SystemClock
from onboardflow.ports import Clock, Store
from onboardflow.settings import Settings


def create_app(
    *, store: Store | None = None, settings: Settings | None = None, clock: Clock | None = None
) -> FastAPI:
    """The onboardflow API. Without a store, it opens the one settings name and closes it on shutdown."""
    settings = settings or Settings()
    owns_store = store is None
    if store is None:
        from onboardflow.store.sql import open_store

        store = open_store(settings.database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        if owns_store:
            store.close()

    app = FastAPI(title="onboardflow", version=__version__, lifespan=lifespan)
    app.state.store = store
    app.state.settings = settings
    app.state.clock = clock or SystemClock()
    app.state.keyring = KeyRing(store, ttl=settings.api_key_cache_seconds)
    install_problem_handlers(app)
    for module in (unsubscribe, preferences, customers, inbox, webhooks, escalation):
        app.include_router(module.router)
    return app
