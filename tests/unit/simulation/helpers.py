"""Journeys, personas and templates for simulator tests, written small so each test says what it varies."""

from __future__ import annotations

from onboardflow.catalog import example_templates
from onboardflow.core.validation import load_journey
from onboardflow.messages.loading import templates_from_texts
from onboardflow.simulation.flows import simulate
from onboardflow.simulation.personas import read_personas

HEAD = "name: Test\nowner: cs@shop.example\n"

# One persona whose customers all have an email and a phone and said yes to everything: the policies
# (consent, missing addresses) stay out of the way unless a test brings them in.
PERSONA = """\
personas:
  - id: buyer
    name: Buyer
    profile: {{countries: {{US: 1}}, email: {email}, phone: {phone}, traits: {{type: retail}}}}
    consent: {{email: {consent}, sms: {consent}, whatsapp: {consent}, push: {consent}}}
    signup: 0
    activation: 0
    orders: {{first_after: [1h, 2h], value: [20, 80]}}
    payment: {{failure: 0}}
    delivery: {{days: [2, 6], late: {late}, late_by: [1, 5], failed: 0}}
    support: {{setup: {setup}, delivery: 0, payment: 0}}
    refund: 0
    review: 0
    engagement: {{open: {{email: {open}, sms: {open}}}, click: 0.5, unsubscribe: 0}}
    repeat: {{share: {repeat}, after: [3d, 9d]}}
reactions:
{reactions}
"""
NO_REACTIONS = "  - when: {template: nothing-sends-this}\n    refund: 1.0"

TEMPLATES = {
    "hello": "email:\n  default:\n    subject: Hello {{ customer.id }}\n    text: Thanks for your order.\n"
    "sms:\n  default:\n    text: Thanks for your order.\n",
    "tips": "email:\n  default:\n    subject: Getting started\n    text: Three tips.\n",
    "offer": "email:\n  default:\n    subject: 10% off\n    text: Come back soon.\n",
}


def personas(
    *,
    email=1.0,
    phone=1.0,
    consent=1.0,
    late=0.2,
    setup=0.0,
    open=1.0,
    repeat=0.0,
    reactions: str = NO_REACTIONS,
):
    text = PERSONA.format(
        email=email,
        phone=phone,
        consent=consent,
        late=late,
        setup=setup,
        open=open,
        repeat=repeat,
        reactions=reactions,
    )
    return read_personas(text, source="test-personas.yaml")


def journey(text: str):
    return load_journey(text if text.startswith("id:") else "id: test\n" + HEAD + text, source="test.yaml")


def templates():
    return templates_from_texts(TEMPLATES, folder="test-templates")


def run(*journeys, customers=40, days=30, seed=3, mix=None, **persona_options):
    """Simulate `journeys` (YAML texts or versions) with the test persona, unless `mix` is given."""
    versions = [journey(j) if isinstance(j, str) else j for j in journeys]
    chosen = mix if mix is not None else personas(**persona_options)
    found = templates()
    merged = example_templates() if any(name not in found for name in _template_names(versions)) else found
    return simulate(
        journeys=versions, personas=chosen, customers=customers, days=days, seed=seed, templates=merged
    )


def _template_names(versions) -> set[str]:
    return {step.send.template for v in versions for step in v.journey.steps if step.kind == "send"}


def delivered(timeline: list[dict]) -> list[dict]:
    return [entry for entry in timeline if entry["kind"] == "message" and entry["status"] == "delivered"]
