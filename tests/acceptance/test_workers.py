"""Workers as real processes: killed mid-batch and restarted, and three sharing one PostgreSQL database."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from onboardflow.core.model import Event
from onboardflow.demo import shop_events
from onboardflow.engine.ingest import event_to_json
from onboardflow.store.sql import open_store
from test_example_journey import launch_examples  # tests/acceptance is on sys.path

CLI = str(Path(sys.executable).with_name("onboardflow"))


def onboardflow(*args: str, url: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "ONBOARDFLOW_DATABASE_URL": url}
    return subprocess.run([CLI, *args], env=env, cwd=cwd, capture_output=True, text=True, check=check, timeout=600)


def start_worker(url: str, cwd: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "ONBOARDFLOW_DATABASE_URL": url}
    args = [CLI, "run", "--quiet", "--poll", "0.05", *extra]
    return subprocess.Popen(args, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def write_events(path: Path, events: list[Event]) -> Path:
    path.write_text("".join(json.dumps(event_to_json(event)) + "\n" for event in events))
    return path


def prepare(url: str, cwd: Path, events: list[Event]) -> None:
    onboardflow("init", url=url, cwd=cwd)  # the example journeys and their templates, which workers render
    launch_examples(url)
    onboardflow("ingest", "--queue", str(write_events(cwd / "events.jsonl", events)), url=url, cwd=cwd)


def outcome(url: str) -> dict:
    store = open_store(url)
    try:
        customers = sorted({m.message.customer_id for m in store.messages()})
        return {
            "counts": store.counts(),
            "messages": sorted(m.message.message_id for m in store.messages()),
            "deliveries": sorted((m.message.message_id, m.status, m.attempts) for m in store.messages()),
            "enrollments": sorted(
                (e.id, e.step_id, e.status, e.exit_reason) for c in customers for e in store.enrollments_of(c)
            ),
        }
    finally:
        store.close()


@pytest.mark.slow
def test_worker_killed_mid_batch_and_restarted_loses_and_repeats_nothing(tmp_path: Path) -> None:
    events = shop_events(customers=400, days=30, seed=11)
    killed_url = f"sqlite:///{tmp_path}/killed.db"
    clean_url = f"sqlite:///{tmp_path}/clean.db"
    for url in (killed_url, clean_url):
        prepare(url, tmp_path, events)

    for delay in (0.8, 0.5, 0.3, 0.6):
        worker = start_worker(killed_url, tmp_path, "--batch-size", "40")
        time.sleep(delay)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
        worker.stderr.close()
    onboardflow("run", "--until-idle", "--quiet", "--poll", "0", url=killed_url, cwd=tmp_path)
    onboardflow("run", "--until-idle", "--quiet", "--poll", "0", url=clean_url, cwd=tmp_path)

    killed, clean = outcome(killed_url), outcome(clean_url)
    assert killed["counts"]["queued"] == 0
    assert killed["counts"]["events"] == len(events)
    assert killed["messages"] == clean["messages"]  # every due message, once: ids are deterministic
    assert len(killed["messages"]) == len(set(killed["messages"]))
    assert killed["enrollments"] == clean["enrollments"]
    assert killed["counts"]["timers"] == clean["counts"]["timers"] > 0  # no timer lost
    delivered_twice = [d for d in killed["deliveries"] if d[2] > 1]
    assert not delivered_twice


def ten_event_stories(customers: int) -> list[Event]:
    start = datetime(2026, 3, 2, tzinfo=UTC)
    stories = []
    for index in range(customers):
        cid = f"w{index}"
        at = start + timedelta(minutes=index)
        profile = {"email": f"{cid}@example.com", "country": "US", "traits": {"type": "retail"}}
        names = ["Signed Up", "First Login", "Order Completed", "Product Viewed", "Product Viewed",
                 "Order Shipped", "Product Viewed", "Order Delivered", "Email Opened", "Product Viewed"]
        story = [
            Event(f"{cid}-{n}", name, cid, at + timedelta(seconds=n),
                  {"order_id": f"{cid}-o1", "total": 50.0}, profile if n == 0 else None)
            for n, name in enumerate(names)
        ]
        stories.append(story)
    return [story[n] for n in range(10) for story in stories]  # interleaved, as a shop's stream arrives


@pytest.fixture
def fresh_postgres_url():
    name = f"obf_workers_{uuid.uuid4().hex[:10]}"
    admin = "postgresql://postgres@127.0.0.1:5432/postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.postgres
@pytest.mark.slow
def test_three_workers_on_postgres_send_every_message_once_in_customer_order(tmp_path, fresh_postgres_url):
    url = fresh_postgres_url
    events = ten_event_stories(2000)
    assert len(events) == 20_000
    prepare(url, tmp_path, events)

    workers = [start_worker(url, tmp_path, "--until-idle", "--batch-size", "500", "--partitions", "8")
               for _ in range(3)]
    for worker in workers:
        _, stderr = worker.communicate(timeout=600)
        assert worker.returncode == 0, stderr

    store = open_store(url)
    try:
        counts = store.counts()
        assert counts["queued"] == 0 and counts["events"] == 20_000
        rows = store.messages()
        ids = [row.message.message_id for row in rows]
        assert len(ids) == len(set(ids))
        # each customer: welcome + profile tips (signup journey), welcome + usage tips (first purchase)
        assert len(ids) == 2000 * 4
        # each decided once: sent (one attempt), skipped for want of consent, or put off by quiet hours
        # (the workers run on the wall clock, and some customers are asleep)
        assert {row.status for row in rows} <= {"delivered", "skipped", "pending"}
        assert all(row.attempts == 1 for row in rows if row.status == "delivered")
        assert all("quiet hours" in row.note for row in rows if row.status == "pending")
        for index in (0, 1, 7, 999, 1999):
            applied = [event_id for event_id, _ in store.customer_events(f"w{index}")]
            assert applied == [f"w{index}-{n}" for n in range(10)]
    finally:
        store.close()
