"""Events per second through a 5-step journey on SQLite, against the floor of plain batched inserts.

    .venv/bin/python benchmarks/engine.py [--customers 20000] [--batch 5000]

Each customer sends 10 events (an order, its shipping and delivery, product views, an email open);
the engine dedupes, stores the events, updates profiles, starts enrollments, resumes waits and writes
messages and timers, one transaction per batch. The floor appends the same event rows to the same kind
of database with plain batched inserts (rows prepared beforehand, the same table and indexes), measured
in the same run. The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.progress import Progress

from onboardflow.core.model import Event
from onboardflow.core.validation import load_journey
from onboardflow.engine.clock import VirtualClock
from onboardflow.engine.engine import Engine
from onboardflow.engine.worker import tune_garbage_collector
from onboardflow.store.sql import open_store

JOURNEY = """
id: bench-five-steps
name: Five steps
owner: bench@example.com
trigger: {event: Order Completed, where: customer.orders_count == 1}
audience: customer.country != "AQ"
steps:
  - id: welcome
    send: {channel: email, template: welcome}
  - id: await-delivery
    wait_for: {event: Order Delivered, where: event.order_id == trigger.order_id, timeout: 10d}
    on_timeout: review
  - id: tips
    send: {channel: [sms, email], template: tips, purpose: education}
  - id: settle
    wait: 3d
  - id: review
    send: {channel: email, template: review, purpose: engagement}
"""
START = datetime(2026, 3, 2, tzinfo=UTC)


def make_events(customers: int) -> list[Event]:
    """Ten events a customer, interleaved across customers the way a shop's stream arrives."""
    events = []
    for index in range(customers):
        cid = f"c{index}"
        at = START + timedelta(seconds=index)
        order = {"order_id": f"o{index}", "total": 42.5, "currency": "USD"}
        profile = {"email": f"{cid}@example.com", "country": "US", "traits": {"type": "retail"}}
        events.append(Event(f"{cid}-1", "Order Completed", cid, at, order, profile))
        events.extend(Event(f"{cid}-v{n}", "Product Viewed", cid, at, {"product_id": f"p{n}"}) for n in range(6))
        events.append(Event(f"{cid}-s", "Order Shipped", cid, at, {"order_id": f"o{index}"}))
        events.append(Event(f"{cid}-d", "Order Delivered", cid, at, {"order_id": f"o{index}"}))
        events.append(Event(f"{cid}-e", "Email Opened", cid, at, {"template": "welcome"}))
    return _interleave(events, stride=10)


def _interleave(events: list[Event], *, stride: int) -> list[Event]:
    """Reorder so each batch holds many customers, keeping each customer's own order."""
    blocks = [events[i:i + stride * 500] for i in range(0, len(events), stride * 500)]
    out = []
    for block in blocks:
        per_customer = [block[i:i + stride] for i in range(0, len(block), stride)]
        for position in range(stride):
            out.extend(story[position] for story in per_customer if position < len(story))
    return out


def run_engine(path: Path, events: list[Event], batch: int, progress: Progress) -> tuple[float, float]:
    """Seconds of wall time and of CPU the engine took."""
    store = open_store(f"sqlite:///{path}")
    clock = VirtualClock(START + timedelta(hours=1))
    engine = Engine(store, clock=clock)
    engine.publish(load_journey(JOURNEY, source="benchmark"))
    task = progress.add_task("engine", total=len(events))
    began, began_cpu = time.perf_counter(), time.process_time()
    for start in range(0, len(events), batch):
        engine.ingest(events[start:start + batch])
        progress.advance(task, min(batch, len(events) - start))
    elapsed, cpu = time.perf_counter() - began, time.process_time() - began_cpu
    counts = store.counts()
    store.close()
    expected = len(events) // 10
    if counts["events"] != len(events) or counts["enrollments"] != expected:
        raise SystemExit(f"engine run incomplete: {counts}")
    return elapsed, cpu


def run_floor(path: Path, events: list[Event], batch: int, progress: Progress) -> float:
    """Plain batched inserts of the same event rows into the same table of the same database schema."""
    open_store(f"sqlite:///{path}").close()  # migrated: the engine's own tables, indexes and settings
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    rows = [
        (e.id, e.name, e.customer_id, e.at.replace(tzinfo=None).isoformat(" ", "microseconds"),
         json.dumps(e.properties), json.dumps(e.customer) if e.customer else None, 1)
        for e in events
    ]
    insert = "INSERT INTO events (id, name, customer_id, at, properties, customer, position) VALUES (?, ?, ?, ?, ?, ?, ?)"
    task = progress.add_task("floor ", total=len(rows))
    began = time.perf_counter()
    for start in range(0, len(rows), batch):
        connection.execute("BEGIN")
        connection.executemany(insert, rows[start:start + batch])
        connection.execute("COMMIT")
        progress.advance(task, min(batch, len(rows) - start))
    elapsed = time.perf_counter() - began
    connection.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=5_000)
    args = parser.parse_args()
    tune_garbage_collector()  # as the `onboardflow` command does
    console = Console(stderr=True)
    events = make_events(args.customers)
    with tempfile.TemporaryDirectory() as folder, Progress(console=console) as progress:
        engine_seconds, engine_cpu = run_engine(Path(folder) / "engine.db", events, args.batch, progress)
        floor_seconds = run_floor(Path(folder) / "floor.db", events, args.batch, progress)
    events_per_s = len(events) / engine_seconds
    floor_per_s = len(events) / floor_seconds
    console.print(f"{len(events)} events: engine {events_per_s:,.0f}/s, floor {floor_per_s:,.0f} rows/s")
    print(json.dumps({
        "events": len(events),
        "events_per_s": round(events_per_s),
        "floor_rows_per_s": round(floor_per_s),
        "ratio": round(events_per_s / floor_per_s, 3),
        # steadier than the rates on a busy machine
        "engine_cpu_us_per_event": round(1e6 * engine_cpu / len(events), 1),
    }))


if __name__ == "__main__":
    main()
