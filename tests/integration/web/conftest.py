"""The web UI in-process through Starlette's TestClient: a memory store with the example journeys run over a
small simulated shop, users of each kind, and a client that signs in and sends forms with the CSRF token."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from onboardflow.api import create_app
from onboardflow.demo import demo_journeys, demo_rules, shop_events
from onboardflow.engine.clock import VirtualClock
from onboardflow.engine.engine import Engine
from onboardflow.governance.people import add_user
from onboardflow.settings import Settings
from onboardflow.store.memory import MemoryStore

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"
USERS = {"admin@shop.example": "admin", "author@shop.example": "author", "agent@shop.example": "support"}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Web:
    client: TestClient
    store: MemoryStore
    clock: VirtualClock
    engine: Engine

    def token(self, path: str = "/login") -> str:
        return CSRF.search(self.client.get(path).text).group(1)

    def sign_in(self, email: str = "admin@shop.example", password: str = PASSWORD):
        form = {"email": email, "password": password, "csrf_token": self.token(), "next": "/journeys"}
        return self.client.post("/login", data=form, follow_redirects=False)

    def post(self, path: str, data: dict | None = None, **kwargs):
        """A form posted as a page of the UI posts it: with the session's CSRF token."""
        return self.client.post(path, data={**(data or {}), "csrf_token": self.token("/journeys")}, **kwargs)


@pytest.fixture
def web(tmp_path) -> Web:
    store, clock = MemoryStore(), VirtualClock(T0)
    engine = Engine(store, clock=clock, rules=demo_rules())
    for version in demo_journeys():
        engine.publish(version)
    engine.replay(shop_events(customers=30, days=25, seed=3))
    for email, role in USERS.items():
        add_user(store=store, email=email, name=email.split("@")[0].title(), roles=role, password=PASSWORD,
                 now=clock.now())
    settings = Settings(_env_file=None, secret_key_file=str(tmp_path / "secret_key"),
                        journeys_dir=str(tmp_path / "journeys"))
    app = create_app(store=store, settings=settings, clock=clock)
    return Web(TestClient(app), store, clock, engine)


@pytest.fixture
def signed_in(web: Web) -> Web:
    assert web.sign_in().status_code == 303
    return web
