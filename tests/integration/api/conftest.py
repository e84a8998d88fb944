"""The API in-process through FastAPI's TestClient, on each store, with a virtual clock and known secrets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from onboardflow.api import create_app
from onboardflow.compliance.tokens import UnsubscribeToken, sign, unsubscribe_url
from onboardflow.demo import demo_journeys
from onboardflow.engine.clock import VirtualClock
from onboardflow.engine.engine import Engine
from onboardflow.settings import Settings

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SECRET = "s3cret-for-tests-" + "x" * 20
ADMIN = "admin-token-for-tests-" + "y" * 20
PROFILE = {
    "email": "ana@example.com", "phone": "+15551234567", "country": "US", "traits": {"first_name": "Ana"}
}


@dataclass
class Api:
    """The app, its store and clock, and an engine on the same store to make customers with."""

    client: TestClient
    store: object
    clock: VirtualClock
    engine: Engine

    def unsubscribe_path(self, customer_id: str = "c1", channel: str = "email", topic: str | None = None):
        return unsubscribe_url(customer_id, channel, "", SECRET, topic=topic)

    def preferences_path(self, customer_id: str = "c1", channel: str = "email") -> str:
        return "/preferences/" + sign(UnsubscribeToken(customer_id, channel), SECRET)

    def one_click(self, path: str, **kwargs):
        return self.client.post(path, data={"List-Unsubscribe": "One-Click"}, **kwargs)

    def state(self, customer_id: str = "c1") -> dict[tuple[str, str], str]:
        return {key: record.status for key, record in self.store.consent_state(customer_id).items()}


def settings(**changes) -> Settings:
    values = {"unsubscribe_secret": SECRET, "admin_token": ADMIN, "sender_name": "Acme Skin",
              "consent_text_version": "prefs-2026-01", **changes}
    return Settings(_env_file=None, **values)


def make_api(store, **changes) -> Api:
    clock = VirtualClock(T0)
    app = create_app(store=store, settings=settings(**changes), clock=clock)
    engine = Engine(store, clock=clock)
    for version in demo_journeys():
        engine.publish(version)
    return Api(TestClient(app), store, clock, engine)


def user_headers(api: Api, email: str, roles: str) -> dict[str, str]:
    """Authorization for a key that acts as the user `email` (added with `roles` if not there yet)."""
    from onboardflow.api.keys import mint
    from onboardflow.governance.people import add_user

    if api.store.user(email) is None:
        add_user(store=api.store, email=email, name=email.split("@")[0], roles=roles, password=None,
                 now=api.clock.now())
    record, plain = mint(email, "read,write", now=api.clock.now(), user=email)
    api.store.save_api_key(record)
    return {"Authorization": f"Bearer {plain}"}


@pytest.fixture
def api(store) -> Api:
    """On memory, SQLite and PostgreSQL."""
    return make_api(store)


@pytest.fixture
def memory_api() -> Api:
    """On the memory store only: for what does not depend on the store."""
    from onboardflow.store.memory import MemoryStore

    return make_api(MemoryStore())
