"""The Simulate page: run journeys on synthetic customers (the built-in personas) with the simulator, in the
background, and see the acceptance results, the graph and funnel of each journey, the messages over time,
and any customer's timeline: the sections of the simulator's own HTML report.

Runs are kept in the server's memory (the latest few): a simulation is a check before launch, not a record.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated

from fastapi import Form, Request
from starlette.responses import Response

from onboardflow.api.dependencies import SettingsDep, StoreDep
from onboardflow.api.problems import Problem
from onboardflow.messages.checks import check_send_steps
from onboardflow.policy_settings import PolicySettings
from onboardflow.simulation.flows import simulate
from onboardflow.simulation.personas import PersonaSet, PersonasInvalid, built_in_personas
from onboardflow.simulation.report import (
    SECTION_STYLE,
    acceptance_section,
    journey_section,
    messages_section,
    timeline_list,
    warnings_section,
)
from onboardflow.simulation.results import Result
from onboardflow.simulation.shop import START
from onboardflow.web.auth import Viewer, web_router
from onboardflow.web.rendering import go_to, page
from onboardflow.web.workspace import live_journey, message_templates

router = web_router()
KEPT_RUNS = 20
MAX_CUSTOMERS, MAX_DAYS = 5000, 120


@dataclass
class SimulationRun:
    """One run asked for on the page: its settings, how far its virtual clock got, and its result."""

    id: str
    journeys: list[str]
    customers: int
    days: int
    seed: int
    personas: list[str]
    by: str
    reached: datetime | None = None
    result: Result | None = None
    error: str | None = None
    done: threading.Event = field(default_factory=threading.Event)

    @property
    def progress(self) -> int:
        if self.done.is_set():
            return 100
        if self.reached is None:
            return 0
        return min(99, int(100 * (self.reached - START).total_seconds() / (self.days * 86400)))


class SimulationRuns:
    """The runs of this server, newest last; one runs at a time, on a thread of its own."""

    def __init__(self) -> None:
        self.runs: OrderedDict[str, SimulationRun] = OrderedDict()
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="simulation")
        self.lock = threading.Lock()

    def start(self, run: SimulationRun, work) -> None:
        with self.lock:
            self.runs[run.id] = run
            while len(self.runs) > KEPT_RUNS:
                self.runs.popitem(last=False)
        self.pool.submit(_run, run, work)

    def get(self, run_id: str) -> SimulationRun:
        run = self.runs.get(run_id)
        if run is None:
            raise Problem(404, "No such simulation", f"no run {run_id!r} here (the server keeps its latest "
                          f"{KEPT_RUNS} runs, until it restarts): start one at /simulate")
        return run


def _run(run: SimulationRun, work) -> None:
    try:
        run.result = work()
    except Exception as error:  # shown on the page; the server goes on
        run.error = f"the simulation failed: {error}"
    finally:
        run.done.set()


def runs_of(request: Request) -> SimulationRuns:
    state = request.app.state
    if getattr(state, "simulations", None) is None:
        state.simulations = SimulationRuns()
    return state.simulations


@router.get("/simulate")
def simulate_page(request: Request, store: StoreDep, viewer: Viewer, journey: str = "") -> Response:
    personas = built_in_personas().personas
    return page(request, "simulate.html", {
        "journeys": store.journeys(), "chosen": journey, "personas": personas,
        "runs": list(reversed(runs_of(request).runs.values())), "max_customers": MAX_CUSTOMERS,
        "max_days": MAX_DAYS,
    })


@router.post("/simulate")
def start_simulation(
    request: Request, store: StoreDep, settings: SettingsDep, viewer: Viewer,
    journeys: Annotated[list[str], Form()], customers: Annotated[int, Form(ge=1, le=MAX_CUSTOMERS)] = 200,
    days: Annotated[int, Form(ge=1, le=MAX_DAYS)] = 30, seed: Annotated[int, Form()] = 7,
    personas: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Start a run of the live versions of `journeys` together; the page of the run follows it."""
    versions = [live_journey(store, journey_id) for journey_id in dict.fromkeys(journeys)]
    templates = message_templates(settings).templates
    missing = [f"{v.id}: {problem}" for v in versions for problem in check_send_steps(v.journey, templates)]
    if missing:
        raise Problem(422, "The journeys cannot run", "; ".join(missing))
    try:
        mix = built_in_personas().only(personas) if personas else built_in_personas()
    except PersonasInvalid as invalid:
        raise Problem(422, "Unknown persona", str(invalid)) from None
    run = SimulationRun(secrets.token_hex(6), [v.id for v in versions], customers, days, seed,
                        [p.id for p in mix.personas], viewer.email)
    runs_of(request).start(run, lambda: _simulate(run, versions, templates, mix))
    return go_to(request, f"/simulate/{run.id}")


def _simulate(run: SimulationRun, versions, templates, mix: PersonaSet) -> Result:
    policies = PolicySettings()

    def reached(moment: datetime) -> None:
        run.reached = moment

    return simulate(journeys=versions, personas=mix, customers=run.customers, days=run.days, seed=run.seed,
                    templates=templates, rules=policies.rules(), default_zone=policies.store_timezone,
                    on_progress=reached)


@router.get("/simulate/{run_id}")
def run_page(request: Request, run_id: str, viewer: Viewer) -> Response:
    """The run: a progress bar while it runs (htmx polls this page's status), then its results."""
    run = runs_of(request).get(run_id)
    return page(request, "simulation.html", {"run": run, "sections": _sections(run), "style": SECTION_STYLE})


@router.get("/simulate/{run_id}/status")
def run_status(request: Request, run_id: str, viewer: Viewer) -> Response:
    run = runs_of(request).get(run_id)
    if run.done.is_set():
        return Response(status_code=200, headers={"HX-Refresh": "true"})
    return page(request, "_progress.html", {"run": run})


@router.get("/simulate/{run_id}/timeline")
def run_timeline(request: Request, run_id: str, viewer: Viewer, customer: str) -> Response:
    """One customer's timeline in the run."""
    run = runs_of(request).get(run_id)
    timelines = run.result.timelines if run.result else {}
    entries = timelines.get(customer.strip())
    return page(request, "_run_timeline.html", {
        "customer": customer.strip(), "timeline": timeline_list(entries) if entries else None, "run": run,
    })


def _sections(run: SimulationRun) -> dict[str, object] | None:
    """The report's sections of a finished run, as HTML the simulator made (every value escaped there)."""
    if run.result is None:
        return None
    doc = run.result.document(timelines="counterexamples")
    return {
        "passed": run.result.passed,
        "acceptance": acceptance_section(doc),
        "warnings": warnings_section(doc["warnings"]),
        "journeys": [journey_section(version, doc) for version in run.result.journeys],
        "messages": messages_section(doc),
        "customers": sorted(run.result.timelines)[:200],
        "total_customers": len(run.result.timelines),
    }
