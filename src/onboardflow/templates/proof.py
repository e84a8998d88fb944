"""How a template is proven: its journey, with the default parameters, simulated with the built-in
personas (or the few its `proof` names) on the production engine. The library's tests hold every
template to it: every acceptance criterion passes and every step is reached."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from onboardflow.simulation.flows import simulate
from onboardflow.simulation.personas import built_in_personas
from onboardflow.simulation.results import Result
from onboardflow.templates.instantiate import instantiate
from onboardflow.templates.library import JourneyTemplate


def prove(template: JourneyTemplate, *, on_progress: Callable[[datetime], None] | None = None) -> Result:
    """The template's proof run (its `proof` settings: customers, days, seed, personas)."""
    instance, proof = instantiate(template), template.info.proof
    personas = built_in_personas()
    if proof.personas:
        personas = personas.only(proof.personas)
    return simulate(
        journeys=[instance.version],
        personas=personas,
        customers=proof.customers,
        days=proof.days,
        seed=proof.seed,
        templates=instance.messages,
        on_progress=on_progress,
    )


def unreached_steps(result: Result) -> list[str]:
    """The steps nobody reached in a run, as the simulator's warnings say them."""
    return [
        warning["message"]
        for warning in result.document(timelines="none")["warnings"]
        if warning["kind"] == "step"
    ]
