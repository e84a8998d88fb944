"""Every message of every template, rendered for sample customers in every shipped language: no missing
variable (a strict render, where only a `default` may stand in for one) and no Liquid error. The sample
customers and their trigger events are the built-in personas' own, from the simulated shop."""

from __future__ import annotations

from collections import defaultdict
from functools import cache

import pytest
from liquid import StrictDefaultUndefined

from onboardflow.core.model import Customer, apply_event
from onboardflow.messages.liquid import MessageEnvironment, money
from onboardflow.messages.templates import MessageScope, render_message
from onboardflow.simulation.personas import built_in_personas
from onboardflow.simulation.shop import Shop, recorded_stream
from onboardflow.templates.instantiate import instantiate
from onboardflow.templates.library import library

LOCALES = ("en-US", "es-MX", "pt-BR")  # the default (English), Spanish and Portuguese variants
STRICT = MessageEnvironment(undefined=StrictDefaultUndefined)
STRICT.add_filter("money", money)


@cache
def samples() -> dict[str, list[tuple[Customer, dict]]]:
    """For each event name, up to three (customer as they were then, the event as a trigger)."""
    _, events = recorded_stream(Shop(built_in_personas(), customers=300, days=75, seed=1))
    customers: dict[str, Customer] = {}
    found: dict[str, list] = defaultdict(list)
    for event in events:
        customer = apply_event(customers.get(event.customer_id, Customer(event.customer_id)), event)
        customers[event.customer_id] = customer
        if len(found[event.name]) < 3:
            found[event.name].append((customer, event.scope()))
    return found


def scopes(version) -> list[MessageScope]:
    cases = samples()[version.journey.trigger.event]
    assert cases, f"the personas never send {version.journey.trigger.event}"
    named = [
        (Customer(c.id, **{**vars_of(c), "traits": {**c.traits, "first_name": "Ana"}}), t) for c, t in cases
    ]
    return [
        MessageScope.of(
            customer,
            trigger=trigger,
            journey_id=version.id,
            step_id="s",
            message_id="m",
            unsubscribe_url="https://shop.example/u/1",
        )
        for customer, trigger in [*cases, *named]
    ]


def vars_of(customer: Customer) -> dict:
    return {
        name: getattr(customer, name)
        for name in customer.__dataclass_fields__
        if name not in ("id", "traits")
    }


@pytest.mark.parametrize("template", library(), ids=lambda t: t.name)
def test_every_message_renders_strictly_for_sample_customers_in_every_language(template):
    instance = instantiate(template)
    rendered = 0
    for scope in scopes(instance.version):
        for name, message in instance.messages.templates.items():
            for channel, variants in message.channels.items():
                for variant in variants.values():
                    for part in [*variant.parts.values(), *variant.parameters]:
                        text = STRICT.from_string(part.liquid.source).render(**scope.variables())
                        assert text.strip(), (name, channel, variant.locale)
                        rendered += 1
                for locale in LOCALES:
                    render_message(instance.messages, name, channel, scope, locale=locale)
    assert rendered > 0
