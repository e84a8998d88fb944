"""The evidence an approval rests on: the simulator run on one exact stored version (its content hash),
with a seed, the built-in personas and a modest number of customers, and what came of its acceptance
criteria. The same engine as production; a memory store and a virtual clock."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from onboardflow.engine.live import stored_journey
from onboardflow.messages.templates import TemplateSet
from onboardflow.ports import StoredVersion
from onboardflow.simulation.flows import simulate
from onboardflow.simulation.personas import PersonaSet, built_in_personas


@dataclass(frozen=True, slots=True)
class SimulationPlan:
    """How the approval's simulation runs: same plan, same result."""

    customers: int = 300
    days: int = 30
    seed: int = 1


def simulate_version(
    stored: StoredVersion,
    *,
    templates: TemplateSet,
    plan: SimulationPlan = SimulationPlan(),
    personas: PersonaSet | None = None,
    on_progress=None,
) -> dict[str, Any]:
    """Run the simulator on `stored` alone; the evidence as the approval keeps it."""
    version = stored_journey(stored)  # without its `migrate` block: alone, there is nothing to move from
    mix = personas or built_in_personas()
    result = simulate(
        journeys=[version],
        personas=mix,
        customers=plan.customers,
        days=plan.days,
        seed=plan.seed,
        templates=templates,
        on_progress=on_progress,
    )
    acceptance = [
        {
            "criterion": v.criterion,
            "kind": v.kind,
            "passed": v.passed,
            "detail": v.detail,
            "breaking": v.breaking,
        }
        for v in result.verdicts
        if v.journey_id == stored.journey_id
    ]
    counts = result.counts
    return {
        "journey_id": stored.journey_id,
        "version": stored.version,
        "digest": stored.digest,
        "seed": plan.seed,
        "customers": plan.customers,
        "days": plan.days,
        "personas": [persona.id for persona in mix.personas],
        "passed": all(item["passed"] for item in acceptance),
        "acceptance": acceptance,
        "failing": [f"{item['criterion']}: {item['detail']}" for item in acceptance if not item["passed"]],
        "counts": {
            "steps": counts["steps"].get(stored.journey_id, {}),
            "exits": counts["exits"].get(stored.journey_id, {}),
            "goal": counts["goals"].get(stored.journey_id, {}),
            "outcomes": counts["outcomes"],
            "messages_per_customer": counts["frequency"],
        },
    }


def approval_templates(folder: Path | None) -> TemplateSet:
    """The templates the simulation renders with: `folder`, else ONBOARDFLOW_JOURNEYS_DIR's templates/,
    else the examples' own."""
    from onboardflow.catalog import example_templates
    from onboardflow.messages.loading import load_templates
    from onboardflow.messages.templates import TEMPLATES_FOLDER
    from onboardflow.settings import Settings

    folder = folder or Path(Settings().journeys_dir) / TEMPLATES_FOLDER
    return load_templates(folder).templates if folder.is_dir() else example_templates()
