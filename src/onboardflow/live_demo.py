"""The served demo: the web UI and the API on the demo's store, a worker applying what comes in, and the
simulated shop sending a few events a second, so the workspace has data flowing while people look at it.

`Workspace` runs the three on threads of one process (uvicorn's server, `run_worker`, the shop); the web UI's
end-to-end tests start one too, without the shop.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import replace
from datetime import datetime

import uvicorn
from rich.console import Console

from onboardflow.api import create_app
from onboardflow.api.keys import mint
from onboardflow.catalog import example_templates
from onboardflow.channels.sandbox import sandbox_channels
from onboardflow.core.model import Event
from onboardflow.engine.clock import SystemClock
from onboardflow.engine.dispatcher import Dispatcher
from onboardflow.engine.engine import Engine
from onboardflow.engine.worker import run_worker
from onboardflow.governance.people import ROLES, add_user
from onboardflow.policy_settings import PolicySettings
from onboardflow.ports import Clock, Store
from onboardflow.settings import Settings
from onboardflow.simulation.personas import built_in_personas
from onboardflow.simulation.shop import Shop, recorded_stream

DEMO_USER, DEMO_PASSWORD = "demo@shop.example", "onboardflow-demo"


class Workspace:
    """The server on a loopback port, a worker, and (with `events_per_second`) the shop's live events."""

    def __init__(self, store: Store, *, settings: Settings, rules: list, host: str = "127.0.0.1",
                 port: int = 0, events_per_second: float = 0.0, seed: int = 11,
                 clock: Clock | None = None) -> None:
        self.store, self.clock = store, clock or SystemClock()
        self.stopping = threading.Event()
        app = create_app(store=store, settings=settings, clock=self.clock)
        self.server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning",
                                                    access_log=False, lifespan="off"))
        self.engine = Engine(store, clock=self.clock, rules=rules,
                             default_zone=PolicySettings().store_timezone)
        self.threads = [threading.Thread(target=self.server.run, name="server", daemon=True),
                        threading.Thread(target=self._work, name="worker", daemon=True)]
        if events_per_second > 0:
            shop = LiveShop(store, clock=self.clock, rate=events_per_second, seed=seed)
            self.threads.append(threading.Thread(target=shop.run, args=(self.stopping,), name="shop",
                                                 daemon=True))

    def start(self, timeout: float = 30.0) -> str:
        """Start everything; the server's base URL once it listens."""
        for thread in self.threads:
            thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if time.monotonic() > deadline or not self.threads[0].is_alive():
                raise RuntimeError("the web server did not start: is the port in use?")
            time.sleep(0.05)
        host, port = self.server.servers[0].sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self.stopping.set()
        self.server.should_exit = True
        for thread in self.threads:
            thread.join(timeout=10)

    def _work(self) -> None:
        dispatcher = Dispatcher(self.store, self.engine.catalog, sandbox_channels(keep=False),
                                templates=example_templates(), rules=PolicySettings().rules())
        run_worker(self.engine, dispatcher, poll_seconds=0.2, should_stop=self.stopping.is_set)


class LiveShop:
    """The simulated shop's events, sent as they would come: a few a second, each at the time it is sent.

    Each round is a new crowd of shoppers (`live1-c_001` ...), so nobody collides with the demo's history."""

    def __init__(self, store: Store, *, clock: Clock, rate: float, seed: int, customers: int = 200) -> None:
        self.store, self.clock, self.rate, self.seed, self.customers = store, clock, rate, seed, customers

    def run(self, stopping: threading.Event) -> None:
        round_number = 0
        while not stopping.is_set():
            round_number += 1
            for event in self.stream(round_number):
                if stopping.wait(1 / self.rate):
                    return
                self.store.queue_events([self.now(event, round_number)], now=self.clock.now())

    def stream(self, round_number: int) -> list[Event]:
        shop = Shop(built_in_personas(), customers=self.customers, days=30, seed=self.seed + round_number)
        history, events = recorded_stream(shop)
        return events

    def now(self, event: Event, round_number: int) -> Event:
        prefix = f"live{round_number}-"
        return replace(event, id=prefix + event.id, customer_id=prefix + event.customer_id,
                       at=self.clock.now())


def demo_user(store: Store, now: datetime) -> None:
    """The demo's user, with every role, whose password the demo prints."""
    add_user(store=store, email=DEMO_USER, name="Demo", roles=ROLES, password=DEMO_PASSWORD, now=now)


def serve_demo(console: Console, store: Store, *, settings: Settings, rules: list, host: str, port: int,
               events_per_second: float) -> None:
    """Serve the populated workspace until interrupted, saying how to get in."""
    now = SystemClock().now()
    demo_user(store, now)
    key, plain = mint("demo storefront", ["ingest", "read"], now=now)
    store.save_api_key(key)
    workspace = Workspace(store, settings=settings, rules=rules, host=host, port=port,
                          events_per_second=events_per_second, seed=secrets.randbelow(1000))
    url = workspace.start()
    console.rule("[bold]the workspace")
    console.print(f"web UI: [bold]{url}[/]  sign in as [bold]{DEMO_USER}[/], "
                  f"password [bold]{DEMO_PASSWORD}[/]")
    console.print(f"the shop sends {events_per_second:g} events a second; a worker applies them as they come")
    console.print(f"an ingest key for your own events (POST {url}/v1/events): {plain}", highlight=False)
    console.print("Ctrl-C stops it")
    try:
        while all(thread.is_alive() for thread in workspace.threads[:2]):
            time.sleep(0.5)
    except KeyboardInterrupt:
        console.print("stopping")
    finally:
        workspace.stop()
