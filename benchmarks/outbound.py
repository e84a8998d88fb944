"""Outbound webhooks: what writing deliveries with the engine's changes costs, and how fast one deliverer
sends them to an endpoint on this machine.

    .venv/bin/python benchmarks/outbound.py [--customers 5000] [--deliveries 2000]

Each customer's first order starts a journey that opens a task and completes: two outbound events
(task.opened, enrollment.completed). The engine ingests the orders on SQLite twice, with no
subscription and with three that want every event (six delivery rows a customer, written in the
batches' transactions). Then one deliverer POSTs deliveries, signed, to a local HTTP server that answers
204, over real sockets (private addresses allowed for it). The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
from rich.console import Console
from rich.progress import Progress

from onboardflow.core.model import Event
from onboardflow.core.validation import load_journey
from onboardflow.engine.clock import VirtualClock
from onboardflow.engine.engine import Engine
from onboardflow.engine.worker import tune_garbage_collector
from onboardflow.outbound.deliverer import Deliverer, DeliveryRules
from onboardflow.outbound.subscriptions import create_subscription
from onboardflow.store.sql import open_store

JOURNEY = """
id: bench-hand-off
name: Hand-off
owner: bench@example.com
trigger: {event: Order Completed}
steps:
  - id: check-in
    escalate: {queue: support, reason: first order, due: 24h}
  - {id: done, exit: completed}
"""
START = datetime(2026, 3, 2, tzinfo=UTC)
BATCH = 1000


def orders(customers: int) -> list[Event]:
    return [Event(f"c{n}-o1", "Order Completed", f"c{n}", START + timedelta(seconds=n), {"order_id": f"o{n}"})
            for n in range(customers)]


def run_engine(path: Path, events: list[Event], subscriptions: int, url: str, progress: Progress):
    """Seconds to ingest the events, and the store (kept open for the deliverer)."""
    store = open_store(f"sqlite:///{path}")
    clock = VirtualClock(START + timedelta(days=1))
    for _ in range(subscriptions):
        create_subscription(store=store, now=clock.now(), url=url, events="*")
    engine = Engine(store, clock=clock)
    engine.publish(load_journey(JOURNEY, source="benchmark"))
    task = progress.add_task(f"engine, {subscriptions} subscription(s)", total=len(events))
    began = time.perf_counter()
    for start in range(0, len(events), BATCH):
        engine.ingest(events[start:start + BATCH])
        progress.advance(task, min(BATCH, len(events) - start))
    return time.perf_counter() - began, store, clock


class Quiet(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self.send_response(204)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        return None


def run_deliverer(store, clock, limit: int, progress: Progress) -> tuple[float, int]:
    """Seconds to deliver up to `limit` deliveries one at a time, and how many were delivered."""
    task = progress.add_task("deliverer", total=limit)
    delivered = 0
    with httpx.Client() as http:
        deliverer = Deliverer(store, clock=clock, http=http, rules=DeliveryRules(allow_private=True))
        began = time.perf_counter()
        while delivered < limit:
            done = deliverer.deliver_due(limit=min(50, limit - delivered)).delivered
            if not done:
                break
            delivered += done
            progress.advance(task, done)
        return time.perf_counter() - began, delivered


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--deliveries", type=int, default=2_000)
    args = parser.parse_args()
    tune_garbage_collector()
    console = Console(stderr=True)
    events = orders(args.customers)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    try:
        with tempfile.TemporaryDirectory() as folder, Progress(console=console) as progress:
            bare, store, _ = run_engine(Path(folder) / "bare.db", events, 0, url, progress)
            store.close()
            subscribed, store, clock = run_engine(Path(folder) / "subscribed.db", events, 3, url, progress)
            written = len(store.deliveries())
            sending, delivered = run_deliverer(store, clock, args.deliveries, progress)
            store.close()
    finally:
        server.shutdown()
    figures = {
        "customers": args.customers,
        "outbound_events": 2 * args.customers,
        "engine_orders_per_s_no_subscription": round(len(events) / bare),
        "engine_orders_per_s_3_subscriptions": round(len(events) / subscribed),
        "deliveries_written": written,
        "deliveries_sent": delivered,
        "deliveries_per_s": round(delivered / sending),
    }
    console.print(f"engine {figures['engine_orders_per_s_no_subscription']:,} orders/s bare, "
                  f"{figures['engine_orders_per_s_3_subscriptions']:,} with 3 subscriptions "
                  f"({written:,} deliveries written); {figures['deliveries_per_s']:,} deliveries/s sent")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
