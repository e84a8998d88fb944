"""Events per second through the HTTP API, and single-event requests per second with their latency.

    .venv/bin/python benchmarks/api.py [--workers 1] [--seconds 10] [--connections 64] [--batch 1000]

Starts `onboardflow serve` (uvicorn, `--workers` processes) on a loopback port with a SQLite file store in
a temp folder and an `ingest` API key, as a storefront would have, then drives it from this machine with
wrk (Debian's `wrk` package; Lua scripts give every event a unique id):
  (a) batches of `--batch` events through POST /v1/events/batch, a few connections → events/s;
  (b) single events through POST /v1/events over `--connections` connections → requests/s, p50, p99.
An answer is sent only once its events are committed to the queue, so the events the queue holds after
each phase is what was durably queued; events/s counts the events of the requests answered 202 within
wrk's time. Beside the rates, the server's CPU time per event and per request (from /proc): on a shared,
busy machine the rates drop with what else runs, the CPU cost much less. The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.progress import Progress

from onboardflow.api.keys import mint
from onboardflow.store.sql import open_store

console = Console(stderr=True)

LUA_COMMON = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %(key)s"
local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end
counter = 0
function event(n)
  return string.format(
    '{"id":"%(phase)s%%d-%%d","name":"Order Completed","customer_id":"c%%d","at":"2026-03-01T10:00:00Z",' ..
    '"properties":{"order_id":"o%%d","total":42.5,"currency":"USD","products":[{"product_id":"p1",' ..
    '"price":42.5,"quantity":1}]},"customer":{"email":"c%%d@example.com","country":"US"}}',
    tid, n, n %% 100000, n, n %% 100000)
end
function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'WRK {"requests": %%d, "duration_s": %%.3f, "non_2xx": %%d, "socket_errors": %%d, ' ..
    '"p50_ms": %%.3f, "p99_ms": %%.3f, "max_ms": %%.3f}\\n',
    summary.requests, summary.duration / 1e6, errors.status,
    errors.connect + errors.read + errors.write + errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
"""
LUA_BATCH = """
function request()
  local parts = {}
  for i = 1, %(batch)d do
    counter = counter + 1
    parts[i] = event(counter)
  end
  return wrk.format(nil, "/v1/events/batch", nil, '{"events":[' .. table.concat(parts, ",") .. ']}')
end
"""
LUA_SINGLE = """
function request()
  counter = counter + 1
  return wrk.format(nil, "/v1/events", nil, event(counter))
end
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(folder: Path, port: int, workers: int) -> tuple[subprocess.Popen, str]:
    url = f"sqlite:///{folder}/bench.db"
    store = open_store(url)  # the schema, and the storefront's key
    record, key = mint("bench-storefront", ["ingest"], now=datetime.now(UTC))
    store.save_api_key(record)
    store.close()
    env = {**os.environ, "ONBOARDFLOW_DATABASE_URL": url}
    command = [sys.executable, "-m", "onboardflow.cli", "serve", "--port", str(port),
               "--workers", str(workers)]
    log = open(folder / "server.log", "w")  # noqa: SIM115 - the server's for its lifetime
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                time.sleep(1.0)  # the other workers come up too
                return server, key
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit(f"the server did not start on port {port}: see {folder / 'server.log'}")


def server_cpu_seconds(pid: int) -> float:
    """User + system CPU of the server and its worker processes so far (Linux /proc): a figure the other
    loads on a shared machine do not inflate the way they inflate wall-clock rates."""
    ticks, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
            pending += [int(child) for task in Path(f"/proc/{current}/task").iterdir()
                        for child in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return ticks / os.sysconf("SC_CLK_TCK")


def queued(folder: Path) -> int:
    with sqlite3.connect(folder / "bench.db") as connection:
        return connection.execute("SELECT count(*) FROM queue").fetchone()[0]


def run_wrk(script: Path, port: int, *, seconds: int, connections: int, threads: int, label: str) -> dict:
    command = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--timeout", "10s",
               "--latency", "-s", str(script), f"http://127.0.0.1:{port}"]
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task(label, total=seconds)
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        while process.poll() is None:
            time.sleep(0.25)
            progress.update(task, completed=min(seconds, progress.tasks[0].completed + 0.25))
    output = process.stdout.read() if process.stdout else ""
    line = next((row for row in output.splitlines() if row.startswith("WRK ")), None)
    if line is None:
        raise SystemExit(f"wrk gave no figures:\n{output}")
    return json.loads(line[4:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # one process: on one SQLite file, writes are one at a time whatever the processes, and a second
    # process waiting for the write lock sleeps in SQLite's busy handler (1 to 100 ms at a time), which
    # is what made the p99 of the first runs hundreds of milliseconds; group commit batches them instead
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: `apt-get install -y wrk` (Debian's package)")
    folder = Path(tempfile.mkdtemp(prefix="onboardflow-bench-api-"))
    port = free_port()
    server, key = start_server(folder, port, args.workers)
    try:
        figures = measure(folder, port, key, args, server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps(figures))


def measure(folder: Path, port: int, key: str, args: argparse.Namespace, pid: int) -> dict:
    batch_script, single_script = folder / "batch.lua", folder / "single.lua"
    # each phase its own ids: the same id twice would be a duplicate, answered but not queued again
    batch_script.write_text(LUA_COMMON % {"key": key, "phase": "b"} + LUA_BATCH % {"batch": args.batch})
    single_script.write_text(LUA_COMMON % {"key": key, "phase": "s"} + LUA_SINGLE)

    cpu_start = server_cpu_seconds(pid)
    batched = run_wrk(batch_script, port, seconds=args.seconds, connections=4, threads=2, label="batches")
    time.sleep(2)  # requests in flight when wrk stopped are answered (and counted by wrk as not done)
    in_queue, cpu_batched = queued(folder), server_cpu_seconds(pid) - cpu_start
    answered = batched["requests"] * args.batch  # each 202 came after its events were committed
    batched_rate = answered / batched["duration_s"]
    console.print(f"batches of {args.batch}: {batched['requests']} answered 202 in "
                  f"{batched['duration_s']:.1f} s = {batched_rate:,.0f} events/s ({in_queue:,} in the queue "
                  f"after), p50 {batched['p50_ms']:.1f} ms, p99 {batched['p99_ms']:.1f} ms; server CPU "
                  f"{cpu_batched / in_queue * 1e6:.1f} µs an event")

    cpu_start = server_cpu_seconds(pid)
    single = run_wrk(single_script, port, seconds=args.seconds, connections=args.connections, threads=2,
                     label="single events")
    time.sleep(2)
    singles_queued, cpu_single = queued(folder) - in_queue, server_cpu_seconds(pid) - cpu_start
    single_rate = single["requests"] / single["duration_s"]
    console.print(f"single events over {args.connections} connections: {single_rate:,.0f} requests/s, "
                  f"p50 {single['p50_ms']:.1f} ms, p99 {single['p99_ms']:.1f} ms, {singles_queued:,} queued; "
                  f"server CPU {cpu_single / singles_queued * 1e3:.3f} ms a request")
    return {
        "batched_events_per_s": round(batched_rate),
        "single_requests_per_s": round(single_rate),
        "p50_ms": round(single["p50_ms"], 2),
        "p99_ms": round(single["p99_ms"], 2),
        "single_events_queued": singles_queued,
        "single_non_2xx": single["non_2xx"] + single["socket_errors"],
        "server_cpu_us_per_batched_event": round(cpu_batched / in_queue * 1e6, 1),
        "server_cpu_ms_per_single_request": round(cpu_single / singles_queued * 1e3, 3),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "cores": os.cpu_count(),
        "batch_requests": batched["requests"],
        "batch_events_queued": in_queue,
        "batch_p99_ms": round(batched["p99_ms"], 1),
        "batch_non_2xx": batched["non_2xx"] + batched["socket_errors"],
        "workers": args.workers,
        "connections": args.connections,
        "batch": args.batch,
        "seconds": args.seconds,
        "load_generator": "wrk",
    }


if __name__ == "__main__":
    main()
