"""`onboardflow serve` as a real process: two server workers on one SQLite file take events from a
storefront's key, and `onboardflow run` processes what they queued."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from onboardflow.api.event_schemas import DELIVERED_EVENT, ORDER_EVENT
from onboardflow.store.sql import open_store

CLI = str(Path(sys.executable).with_name("onboardflow"))

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def onboardflow(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=300)


def wait_until_serving(base: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"serve exited: {log.read_text()}")
        try:
            if httpx.get(f"{base}/openapi.json", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError("serve did not answer within 60 s")


def test_two_server_workers_queue_events_that_a_worker_then_processes(tmp_path):
    url = f"sqlite:///{tmp_path}/onboardflow.db"
    env = {**os.environ, "ONBOARDFLOW_DATABASE_URL": url}
    key = onboardflow("apikey", "create", "--scopes", "ingest", "--name", "storefront", env=env, cwd=tmp_path)
    token = key.stdout.strip().splitlines()[-1]
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as output:
        command = [CLI, "serve", "--port", str(port), "--workers", "2"]
        server = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=output)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(base, server, log)
        headers = {"Authorization": f"Bearer {token}"}
        answers = [httpx.post(f"{base}/v1/events", json=event, headers=headers, timeout=30)
                   for event in (ORDER_EVENT, DELIVERED_EVENT, ORDER_EVENT)]
    finally:
        server.terminate()
        server.wait(timeout=60)

    assert [answer.status_code for answer in answers] == [202, 202, 202]
    assert [answer.json()["queued"] for answer in answers] == [["evt_01"], ["evt_02"], []]
    assert answers[2].json()["duplicates"] == ["evt_01"]
    assert onboardflow("run", "--until-idle", "--quiet", env=env, cwd=tmp_path).returncode == 0
    store = open_store(url)
    try:
        assert [event_id for event_id, _ in store.customer_events("c_42")] == ["evt_01", "evt_02"]
        assert store.customer("c_42").email == "ana@example.com"
    finally:
        store.close()


def test_serve_refuses_several_workers_on_the_memory_store(tmp_path):
    env = {**os.environ, "ONBOARDFLOW_DATABASE_URL": "memory"}
    result = onboardflow("serve", "--workers", "2", env=env, cwd=tmp_path)

    assert result.returncode == 2
    assert "the memory store lives in one process" in result.stderr


def test_serve_says_what_is_wrong_with_the_database(tmp_path):
    env = {**os.environ, "ONBOARDFLOW_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}
    result = onboardflow("serve", env=env, cwd=tmp_path)

    assert result.returncode == 1
    assert "cannot connect to the PostgreSQL database" in result.stderr and "Traceback" not in result.stderr
