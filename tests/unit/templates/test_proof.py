"""Each template, simulated with the built-in personas on the production engine (its `proof`): every
acceptance criterion holds and every step is reached, exception paths included."""

from __future__ import annotations

import pytest

from onboardflow.templates.instantiate import instantiate
from onboardflow.templates.library import library
from onboardflow.templates.proof import prove, unreached_steps


@pytest.mark.parametrize("template", library(), ids=lambda t: t.name)
def test_simulated_with_the_built_in_personas_every_criterion_holds_and_every_step_is_reached(template):
    journey = instantiate(template).version.journey

    result = prove(template)

    failing = [
        (v.criterion, v.detail, [c.why for c in v.counterexamples]) for v in result.verdicts if not v.passed
    ]
    assert failing == []
    assert len(result.verdicts) == len(journey.acceptance) >= 3
    assert unreached_steps(result) == []
    escalates = any(step.kind == "escalate" for step in journey.steps)
    assert bool(result.counts["tasks"]) == escalates  # the hand-offs happened, and only where a step asks
