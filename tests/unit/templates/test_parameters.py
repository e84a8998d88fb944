"""Parameters: read by type, checked against their constraints, every problem naming the parameter and
what is allowed; any value the checks let through lands in the files exactly as given."""

from __future__ import annotations

import pytest
import yaml

from onboardflow.messages.templates import MessageScope, render_message
from onboardflow.templates.instantiate import instantiate
from onboardflow.templates.library import get_template
from onboardflow.templates.parameters import ParametersInvalid, parse_assignments

REPLENISH = get_template("consumable-replenishment")


def problems(template, **given) -> list[str]:
    with pytest.raises(ParametersInvalid) as invalid:
        instantiate(template, given)
    return invalid.value.problems


def test_defaults_fill_every_parameter_not_given():
    instance = instantiate(REPLENISH, {"replenishment_days": "45"})

    assert instance.values["replenishment_days"] == 45 and instance.values["brand_name"] == "Northwind Goods"
    assert "wait: 45d" in instance.journey_text


def test_every_bad_value_is_reported_at_once_with_what_is_allowed():
    said = problems(
        REPLENISH,
        replenishment_days="3",
        support_email="help-at-shop",
        store_url="shop.example",
        category="Skin Care",
    )

    assert said == [
        "parameter 'store_url': 'shop.example' is not a web address: give an http:// or https:// address, "
        "e.g. https://shop.example",
        "parameter 'support_email': 'help-at-shop' is not an email address (An email address must have an "
        "@-sign.)",
        "parameter 'category': 'Skin Care' is not allowed: give lower-case letters, digits, - and _",
        "parameter 'replenishment_days': 3 is out of range: give a whole number from 7 to 180",
    ]


def test_a_number_that_is_not_one_and_an_unknown_name_say_what_to_write():
    said = problems(REPLENISH, replenishment_day="30", owner="x@shop.example")
    assert said == [
        "parameter 'replenishment_day': consumable-replenishment has no such parameter (did you mean "
        "'replenishment_days'?); its parameters are brand_name, store_url, support_email, support_hours, "
        "owner, category, replenishment_days"
    ]
    assert problems(REPLENISH, replenishment_days="thirty") == [
        "parameter 'replenishment_days': 'thirty' is not a whole number: give a whole number from 7 to 180"
    ]
    assert problems(get_template("delivery-exception"), high_value_threshold="-5") == [
        "parameter 'high_value_threshold': -5 is out of range: give a number from 0"
    ]


def test_text_is_one_line_within_its_length_and_without_liquid():
    assert problems(REPLENISH, brand_name="x" * 61) == [
        "parameter 'brand_name': 61 characters is too long: give one line of text, at most 60 characters"
    ]
    assert problems(REPLENISH, brand_name="two\nlines")[0].startswith("parameter 'brand_name': 'two\\nlines'")
    assert problems(REPLENISH, brand_name="{{ customer.email }}") == [
        "parameter 'brand_name': '{{ customer.email }}' holds a Liquid delimiter ({{, }}, {%, %}): write the "
        "text without it"
    ]


def test_a_value_with_quotes_colons_and_hashes_lands_exactly_as_given():
    brand = 'Ana\'s "Best": #1 \\ Skin'
    instance = instantiate(REPLENISH, {"brand_name": brand, "support_hours": "9:00 - 17:30"})

    journey = yaml.safe_load(instance.journey_text)
    assert journey["description"].startswith(
        f"Usage, ingredients, delivery tracking and a replenishment reminder for {brand}'s"
    )
    content = render_message(
        instance.messages,
        "replenish_tracking",
        "email",
        MessageScope(
            customer={"locale": "pt-BR"},
            trigger={"order_id": "o_1", "estimated_delivery_at": "2026-03-10T00:00:00Z"},
        ),
    )
    assert content.text.endswith(brand) and "de segunda a sexta, 9:00 - 17:30." in content.text
    sms = render_message(
        instance.messages,
        "replenish_tracking",
        "sms",
        MessageScope(
            customer={}, trigger={"order_id": "o_1", "estimated_delivery_at": "2026-03-10T00:00:00Z"}
        ),
    )
    assert sms.text.startswith(f"{brand}: order o_1 has shipped, expected by Mar 10.")


def test_param_options_are_name_equals_value():
    assert parse_assignments(["a=1", "b = x=y", "c", "a=2"]) == (
        {"a": "1", "b": " x=y"},
        [
            "--param 'c': write NAME=VALUE, e.g. --param brand_name=\"Acme Skin\"",
            "--param a: given twice; give each parameter once",
        ],
    )
