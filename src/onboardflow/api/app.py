"""The app factory: the store, settings and clock are injected, so tests and the CLI build the same app."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from onboardflow import __version__
from onboardflow.api import (
    consent,
    customers,
    escalation,
    events,
    inbox,
    journeys,
    kpis,
    messages,
    outbound_webhooks,
    playbooks,
    preferences,
    review,
    segment,
    signups,
    tasks,
    unsubscribe,
    webhooks,
)
from onboardflow.api.docs_pages import install_docs
from onboardflow.api.idempotency import IdempotencyKeys
from onboardflow.api.intake import Intake
from onboardflow.api.keys import KeyRing
from onboardflow.api.lane import LanedApp
from onboardflow.api.limits import RequestLimits
from onboardflow.api.openapi import install_openapi
from onboardflow.api.problems import install_problem_handlers
from onboardflow.engine.clock import SystemClock
from onboardflow.engine.queue_writer import QueueWriter
from onboardflow.ports import Clock, Store
from onboardflow.settings import Settings
from onboardflow.web import install_web


def create_app(
    *, store: Store | None = None, settings: Settings | None = None, clock: Clock | None = None
) -> FastAPI:
    """The onboardflow API and web UI. Without a store, it opens the one settings name and closes it on
    shutdown."""
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

    # the docs pages are installed below, loading files the server serves, not a CDN's
    app = LanedApp(title="onboardflow", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.store = store
    app.state.settings = settings
    app.state.clock = clock = clock or SystemClock()
    app.state.keyring = KeyRing(store, ttl=settings.api_key_cache_seconds)
    app.state.intake = Intake(QueueWriter(store, clock=clock), clock=clock)
    app.state.idempotency = IdempotencyKeys(store, clock=clock)
    install_web(app, settings)  # before the lane and the limits: they stay the first to see a request
    lane = {"/v1/events": events.post_event, "/v1/events/batch": events.post_batch,
            "/v1/segment": segment.post_segment}
    app.add_lane(lane, limit_for=body_limits(settings))
    app.add_middleware(RequestLimits, limit_for=body_limits(settings))
    if settings.signup_origins:  # the storefront pages that post the signup form (docs/outcomes.md)
        app.add_middleware(CORSMiddleware, allow_origins=settings.signup_origins, allow_methods=["POST"],
                           allow_headers=["Authorization", "Content-Type"])
    install_problem_handlers(app)
    install_docs(app)
    for module in (customers, consent, journeys, review, messages, tasks, escalation, inbox, unsubscribe,
                   preferences, webhooks, kpis, signups, outbound_webhooks, playbooks):
        app.include_router(module.router)
    app.include_router(escalation.claims)
    app.include_router(signups.forms)
    for module in (events, segment):
        app.include_router(module.router)
    install_openapi(app)
    return app


BATCH_PATHS = ("/v1/events/batch", "/v1/segment", "/webhooks/")


def body_limits(settings: Settings) -> Callable[[str], int]:
    """The body size limit of a path: the batch routes' (and the store webhooks'), or the one for the rest."""

    def limit_for(path: str) -> int:
        is_batch = path.startswith(BATCH_PATHS)
        return settings.max_batch_body_bytes if is_batch else settings.max_body_bytes

    return limit_for
