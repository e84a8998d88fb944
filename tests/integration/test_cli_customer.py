"""`onboardflow customer export|erase` in-process on a SQLite store; `onboardflow serve` as a real server."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from onboardflow.cli import app
from onboardflow.compliance.tokens import unsubscribe_url
from onboardflow.core.model import Event
from onboardflow.engine.ingest import event_to_json
from onboardflow.store.sql import open_store
from test_cli import go_live  # tests/integration is on sys.path

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PROFILE = {"email": "ana@example.com", "phone": "+15551234567", "country": "US", "traits": {"type": "retail"}}
SECRET = "cli-test-secret-" + "q" * 24


def run(*args: str, code: int = 0):
    result = CliRunner().invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == code, f"exit {result.exit_code}\n{result.output}"
    return result


def with_store(url: str, action):
    store = open_store(url)
    try:
        return action(store)
    finally:
        store.close()


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A store with the example journeys live and two customers who ordered and gave consent."""
    url = f"sqlite:///{tmp_path}/onboardflow.db"
    monkeypatch.setenv("ONBOARDFLOW_DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)
    events = []
    for customer_id in ("c1", "c2"):
        events.append(Event(f"o-{customer_id}", "Order Completed", customer_id, T0,
                            {"order_id": f"o-{customer_id}", "total": 40.0}, PROFILE))
        events.append(Event(f"g-{customer_id}", "Consent Granted", customer_id, T0,
                            {"channel": "email", "evidence": {"ip": "203.0.113.7"}}))
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(event_to_json(event)) + "\n" for event in events), encoding="utf-8")
    run("init")
    go_live(url, tmp_path / "journeys")
    run("ingest", str(path))
    return url


def test_export_prints_everything_held_on_the_customer_as_json(shop):
    document = json.loads(run("customer", "export", "c1").stdout)

    assert document["customer_id"] == "c1"
    assert document["profile"]["email"] == "ana@example.com"
    assert [event["name"] for event in document["events"]] == ["Order Completed", "Consent Granted"]
    assert document["consent"]["state"][0]["status"] == "granted"
    assert len(document["enrollments"]) == 1 and len(document["messages"]) == 1


def test_export_can_write_a_file(shop, tmp_path):
    run("customer", "export", "c1", "--out", str(tmp_path / "c1.json"))

    assert json.loads((tmp_path / "c1.json").read_text())["profile"]["phone"] == "+15551234567"


def test_export_of_an_unknown_customer_fails_saying_so(shop):
    result = run("customer", "export", "nobody", code=1)

    assert "no customer 'nobody'" in result.output


def test_erase_without_yes_erases_nothing(shop):
    result = run("customer", "erase", "c1", code=2)

    assert "run again with --yes" in result.output
    assert with_store(shop, lambda store: store.customer("c1").email) == "ana@example.com"


def test_erase_with_yes_keeps_counts_and_leaves_no_personal_data(shop):
    before = with_store(shop, lambda store: store.counts())

    result = run("customer", "erase", "c1", "--yes")

    pseudonym = result.stdout.split("under ")[1].split(" ")[0]
    assert pseudonym.startswith("anon_")
    after = with_store(shop, lambda store: store.counts())
    assert {k: after[k] for k in ("events", "enrollments", "messages")} == {
        k: before[k] for k in ("events", "enrollments", "messages")
    }
    remainder = run("customer", "export", pseudonym).stdout
    assert "ana@example.com" not in remainder and "+15551234567" not in remainder
    assert "203.0.113.7" not in remainder
    assert json.loads(remainder)["profile"]["total_spent"] == 40.0
    assert "no customer 'c1'" in run("customer", "export", "c1", code=1).output
    assert json.loads(run("customer", "export", "c2").stdout)["profile"]["email"] == "ana@example.com"


# the server


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(port: int, server: subprocess.Popen, log: Path, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"the server exited with {server.returncode}: {log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"the server did not listen on {port} within {seconds} s")


def test_serve_answers_a_one_click_unsubscribe_over_a_real_socket(shop, tmp_path):
    port = free_port()
    command = [str(Path(sys.executable).with_name("onboardflow")), "serve", "--port", str(port)]
    env = {**os.environ, "ONBOARDFLOW_UNSUBSCRIBE_SECRET": SECRET}
    log = tmp_path / "server.log"
    with log.open("wb") as output:
        server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=output)
    try:
        wait_for(port, server, log)
        url = unsubscribe_url("c1", "email", f"http://127.0.0.1:{port}", SECRET)
        request = urllib.request.Request(url, data=b"List-Unsubscribe=One-Click", method="POST",
                                         headers={"Content-Type": "application/x-www-form-urlencoded"})
        with urllib.request.urlopen(request, timeout=10) as response:
            answer = (response.status, json.loads(response.read()))
    finally:
        server.terminate()
        server.wait(timeout=10)

    assert answer[0] == 200 and answer[1]["status"] == "unsubscribed"
    state = with_store(shop, lambda store: store.consent_state("c1"))
    assert state[("email", "marketing")].status == "withdrawn"
    assert state[("email", "marketing")].evidence["ip"] == "127.0.0.1"
