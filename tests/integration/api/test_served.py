"""The event routes served by uvicorn on a loopback port, over real HTTP and many connections at once:
concurrent single events share transactions (group commit) and are all queued before their answers;
concurrent retries of one Idempotency-Key queue once."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
import uvicorn

from onboardflow.api import create_app
from onboardflow.api.event_schemas import ORDER_EVENT
from onboardflow.api.keys import mint

from .conftest import settings

pytestmark = pytest.mark.slow


@pytest.fixture
def served(sqlite_store) -> Iterator[tuple[str, str, object]]:
    """(base URL, an ingest key, the app) with uvicorn serving the app on a free loopback port."""
    record, key = mint("storefront", ["ingest"], now=datetime.now(UTC))
    sqlite_store.save_api_key(record)
    app = create_app(store=sqlite_store, settings=settings())
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}", key, app
    server.should_exit = True
    thread.join(timeout=20)


async def post_all(base: str, key: str, bodies: list[dict], headers: dict | None = None) -> list:
    limits = httpx.Limits(max_connections=32)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        auth = {"Authorization": f"Bearer {key}", **(headers or {})}
        return await asyncio.gather(*(client.post("/v1/events", json=body, headers=auth) for body in bodies))


def test_concurrent_single_events_are_all_queued_in_fewer_transactions(served, sqlite_store):
    base, key, app = served
    bodies = [{**ORDER_EVENT, "id": f"e{n}", "customer_id": f"c{n % 7}"} for n in range(200)]

    answers = asyncio.run(post_all(base, key, bodies))

    assert [answer.status_code for answer in answers] == [202] * 200
    assert sorted(answer.json()["queued"][0] for answer in answers) == sorted(f"e{n}" for n in range(200))
    assert sqlite_store.counts()["queued"] == 200
    assert app.state.intake.writer.transactions < 200


def test_concurrent_retries_of_one_idempotency_key_queue_once(served, sqlite_store):
    base, key, _ = served

    answers = asyncio.run(post_all(base, key, [ORDER_EVENT] * 20, {"Idempotency-Key": "retry-storm"}))

    statuses = sorted(answer.status_code for answer in answers)
    firsts = [a for a in answers if a.status_code == 202 and "idempotent-replayed" not in a.headers]
    assert len(firsts) == 1 and firsts[0].json()["queued"] == ["evt_01"]
    assert set(statuses) <= {202, 409}
    for answer in answers:
        if answer.status_code == 409:
            assert "still being answered" in answer.json()["detail"]
        elif answer is not firsts[0]:
            assert answer.json() == firsts[0].json()
    assert sqlite_store.counts()["queued"] == 1


def test_a_chunked_body_past_the_limit_is_413_over_the_wire(served):
    base, key, _ = served

    def chunks() -> Iterator[bytes]:
        yield b'{"id": "big", "properties": {"note": "'
        for _ in range(300):
            yield b"x" * 4096
        yield b'"}}'

    answer = httpx.post(f"{base}/v1/events", content=chunks(), timeout=30,
                        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})

    assert answer.status_code == 413 and "(1 MiB)" in answer.json()["detail"]
