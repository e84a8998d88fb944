"""The web UI end to end: the demo's workspace served on a loopback port (server, worker; the store a SQLite
file the demo filled) and Debian's Chromium driven headless by Playwright. Never a downloaded browser:
`make test` installs the `chromium` package when /usr/bin/chromium is missing.

Each test writes screenshots of the pages it walks into var/screenshots/ (ONBOARDFLOW_SCREENSHOTS to move it).
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from rich.console import Console

from onboardflow.demo import demo_rules, run_demo
from onboardflow.engine.clock import SystemClock
from onboardflow.governance.people import add_user
from onboardflow.live_demo import Workspace
from onboardflow.settings import Settings
from onboardflow.store.sql import open_store

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PASSWORD = "correct horse battery"
OWNER, AGENT = "ana@shop.example", "sam@shop.example"
SHOTS = Path(os.environ.get("ONBOARDFLOW_SCREENSHOTS", Path(__file__).parents[2] / "var" / "screenshots"))

pytestmark = pytest.mark.e2e


@dataclass
class Served:
    url: str
    store: object
    shots: Path


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("workspace")
    url = f"sqlite:///{folder}/workspace.db"
    run_demo(Console(file=io.StringIO()), customers=60, days=25, seed=7, database_url=url, rules=demo_rules())
    store = open_store(url)
    now = SystemClock().now()
    add_user(store=store, email=OWNER, name="Ana Lima", roles=["owner", "admin"], password=PASSWORD, now=now)
    add_user(store=store, email=AGENT, name="Sam Agent", roles=["support"], password=PASSWORD, now=now)
    settings = Settings(_env_file=None, secret_key_file=str(folder / "secret_key"),
                        journeys_dir=str(folder / "journeys"))
    workspace = Workspace(store, settings=settings, rules=demo_rules())
    base = workspace.start()
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        yield Served(base, store, SHOTS)
    finally:
        workspace.stop()
        store.close()
        print(f"\nscreenshots of the web UI: {SHOTS}")


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is not installed: `apt-get install -y chromium` (make test does it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser, served):
    context = browser.new_context(base_url=served.url, viewport={"width": 1366, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    yield opened
    context.close()


def sign_in(page, email: str = OWNER, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/journeys")


def shot(page, served: Served, name: str) -> Path:
    path = served.shots / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
