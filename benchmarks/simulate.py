"""The simulator's speed: customers of the built-in personas through a 6-step journey, on a virtual clock.

    .venv/bin/python benchmarks/simulate.py [--customers 100000] [--days 60] [--seed 1] [--workers 2]

The same run as `onboardflow simulate`: the production engine, memory store, dispatcher (consent,
quiet hours, caps, rendering) and sandbox channels, customers answering messages; the result read
back and the acceptance criteria judged. Writing the JSON and the report is not timed. The last line
is JSON.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from datetime import timedelta

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from onboardflow.catalog import example_templates
from onboardflow.core.validation import load_journey
from onboardflow.engine.worker import tune_garbage_collector
from onboardflow.simulation.flows import simulate
from onboardflow.simulation.personas import built_in_personas
from onboardflow.simulation.shop import START

JOURNEY = """
id: bench-onboarding
name: First order onboarding (benchmark)
owner: bench@example.com
trigger: {event: Order Completed, where: customer.orders_count == 1}
goal: {event: Order Completed, within: 30d, where: event.order_id != trigger.order_id}
holdout: 10%
policies:
  quiet_hours: {from: "21:00", to: "08:00"}
  frequency_cap: {max: 3, per: 7d}
steps:
  - id: welcome
    send: {channel: email, template: welcome, purpose: transactional}
  - id: await-delivery
    wait_for: {event: Order Delivered, where: event.order_id == trigger.order_id, timeout: 10d}
    on_timeout: apology
    goto: tips
  - id: apology
    send: {channel: [sms, email], template: delivery_apology, purpose: transactional}
  - id: tips
    send: {channel: [email, sms], template: usage_tips, purpose: education}
  - id: settle
    wait: 5d
  - id: review
    send: {channel: email, template: review_request, purpose: engagement}
acceptance:
  - {max_messages: 4, within: 7d}
  - reached: {step: tips, share: 80%}
"""


def _cpu() -> float:
    """CPU seconds of this process and of its children that have ended (the workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2, help="processes sharing the customers")
    arguments = parser.parse_args()
    tune_garbage_collector()
    console = Console(stderr=True)
    journey = load_journey(JOURNEY, source="benchmarks/simulate.py")
    columns = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task(
            f"{arguments.customers} customers, {arguments.days} days", total=arguments.days * 86400
        )
        began, cpu = time.perf_counter(), _cpu()
        result = simulate(
            journeys=[journey],
            personas=built_in_personas(),
            customers=arguments.customers,
            days=arguments.days,
            seed=arguments.seed,
            templates=example_templates(),
            workers=arguments.workers,
            on_progress=lambda moment: progress.update(
                task, completed=(moment - START) / timedelta(seconds=1)
            ),
        )
        seconds, cpu = time.perf_counter() - began, _cpu() - cpu
    counts = result.counts
    figures = {
        "customers": arguments.customers,
        "days": arguments.days,
        "seconds": round(seconds, 1),
        "cpu_seconds": round(cpu, 1),  # this process and its workers: what the run costs, whatever the load
        "workers": arguments.workers,
        "steps": len(journey.journey.steps),
        "entrants": counts["steps"][journey.id]["welcome"],
        "events": sum(len(story.events) for story in result.stories.values()),
        "messages_delivered": len(counts["messages"]),
        "dispatcher_decisions": sum(counts["outcomes"].values()),
        "tasks": len(counts["tasks"]),
        "criteria_passed": sum(verdict.passed for verdict in result.verdicts),
        "criteria": len(result.verdicts),
        "target_seconds": 60,
    }
    console.print(f"{arguments.customers} customers over {arguments.days} days in {seconds:.1f} s")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
