"""Where the engine benchmark's CPU goes, phase by phase: the same run as `benchmarks/engine.py`, timed.

    .venv/bin/python benchmarks/engine_phases.py [--customers 20000] [--batch 5000]

Each phase is a set of functions wrapped with a CPU timer; time inside a nested phase counts for that
phase only, so the figures add up to the run's CPU ("sql" is every statement's execution, reads and
writes; "other" what no phase holds: begin, the catalog's check, the benchmark's loop).
The last line is JSON (seconds of CPU a phase).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import defaultdict
from functools import wraps
from pathlib import Path

from rich.console import Console
from rich.progress import Progress

sys.path.insert(0, str(Path(__file__).parent))

import sqlalchemy as sa  # noqa: E402
from engine import make_events, run_engine  # noqa: E402  (the benchmark beside this file)
from sqlalchemy.engine.default import DefaultDialect  # noqa: E402

from onboardflow.engine import engine as engine_module  # noqa: E402
from onboardflow.engine.worker import tune_garbage_collector  # noqa: E402
from onboardflow.store.transaction import SqlTransaction  # noqa: E402

PHASES = {
    "dedupe": [(engine_module, "_drop_duplicates")],
    "reads": [(SqlTransaction, name) for name in ("customers", "active_enrollments", "entries", "enrollments",
                                                  "open_tasks", "histories", "due_timers")],
    "machine": [(engine_module.Batch, "feed"), (engine_module.Batch, "finish")],
    "writes": [(SqlTransaction, "apply")],  # the rows made and encoded; their statements are "sql"
    "sql": [(sa.Connection, "execute"), (sa.Connection, "exec_driver_sql")],
    "commit": [(DefaultDialect, "do_commit")],
}


class Timers:
    """CPU seconds a phase, exclusive of the phases called inside it."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self._stack: list[list[float]] = []  # [start, time spent in nested phases]

    def wrap(self, phase: str, function):
        @wraps(function)
        def timed(*args, **kwargs):
            self._stack.append([time.process_time(), 0.0])
            try:
                return function(*args, **kwargs)
            finally:
                began, nested = self._stack.pop()
                spent = time.process_time() - began
                self.seconds[phase] += spent - nested
                if self._stack:
                    self._stack[-1][1] += spent
        return timed

    def install(self) -> None:
        for phase, targets in PHASES.items():
            for owner, name in targets:
                setattr(owner, name, self.wrap(phase, getattr(owner, name)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=5_000)
    args = parser.parse_args()
    tune_garbage_collector()
    console = Console(stderr=True)
    events = make_events(args.customers)
    timers = Timers()
    timers.install()
    began_cpu, began_wall = time.process_time(), time.perf_counter()
    with tempfile.TemporaryDirectory() as folder, Progress(console=console, disable=True) as progress:
        run_engine(Path(folder) / "engine.db", events, args.batch, progress)
    cpu, wall = time.process_time() - began_cpu, time.perf_counter() - began_wall
    figures = {phase: round(timers.seconds[phase], 3) for phase in PHASES}
    figures["other"] = round(cpu - sum(timers.seconds.values()), 3)
    for phase, seconds in figures.items():
        console.print(f"{phase:>14} {seconds:7.3f} s CPU  {1e6 * seconds / len(events):6.1f} µs an event")
    rate = len(events) / wall
    console.print(f"{'total':>14} {cpu:7.3f} s CPU, {wall:.3f} s wall: {rate:,.0f} events/s")
    print(json.dumps({"events": len(events), "cpu_s": round(cpu, 3), "wall_s": round(wall, 3), **figures}))


if __name__ == "__main__":
    main()
