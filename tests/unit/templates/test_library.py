"""The template library: the templates the issue names, each complete (description, parameters with
valid defaults, a journey that validates, copy in English, Spanish and Portuguese for every channel it
sends on) and holding to the library's rules (no promotion before value, names that do not clash)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

from onboardflow.core.journey import Send
from onboardflow.templates.instantiate import PLACEHOLDER, instantiate
from onboardflow.templates.library import TemplateNotFound, get_template, library

NAMES = [
    "abandoned-checkout",
    "account-activation",
    "consumable-replenishment",
    "delivery-exception",
    "first-purchase",
    "product-setup",
    "returning-buyer",
    "review-and-loyalty",
    "subscription-onboarding",
    "support-follow-up",
    "wholesale-buyer",
]
TEMPLATES = library()
LANGUAGES = {"default", "es", "pt"}


def by_name(name: str):
    return get_template(name)


def test_the_library_holds_a_template_for_each_moment_the_issue_names():
    assert [template.name for template in TEMPLATES] == NAMES


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.name)
def test_each_template_says_what_it_does_when_to_use_it_and_what_it_measures(template):
    info = template.info
    assert info.title
    for text in (info.description, info.when_to_use, info.measures):
        assert len(text.split()) >= 10, text
    assert {"brand_name", "store_url", "support_email", "support_hours", "owner"} <= set(template.parameters)
    assert all(spec.description for spec in template.parameters.values())


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.name)
def test_every_placeholder_is_a_parameter_and_every_parameter_is_used(template):
    used = {
        m.group(1)
        for text in (template.journey, *template.messages.values())
        for m in PLACEHOLDER.finditer(text)
    }

    assert used == set(template.parameters)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.name)
def test_with_its_defaults_each_template_is_a_valid_journey_whose_sends_all_have_templates(template):
    instance = instantiate(template)  # raises TemplateBroken on a problem validate would report

    assert instance.version.id == template.name
    assert instance.warnings == []  # no unknown variables, no SMS past its segment limit
    assert not PLACEHOLDER.search(instance.journey_text)
    sent = {step.send.template for step in instance.version.journey.steps if isinstance(step, Send)}
    assert sent == set(instance.message_texts)  # every message template is sent, none is missing


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.name)
def test_every_channel_of_every_message_speaks_english_spanish_and_portuguese(template):
    instance = instantiate(template)
    for step in instance.version.journey.steps:
        if isinstance(step, Send):
            message = instance.messages.get(step.send.template)
            for channel in step.send.channels:
                assert set(message.channels[channel]) == LANGUAGES, (step.id, channel)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.name)
def test_no_template_sells_before_the_customer_has_had_value(template):
    journey = instantiate(template).version.journey

    assert journey.policies.no_promotion_before == "Order Delivered"
    assert any(getattr(rule, "no_promotion_before", None) for rule in journey.acceptance) or not any(
        isinstance(step, Send) and step.send.purpose == "promotion" for step in journey.steps
    )


def test_message_template_names_are_unique_across_the_library_so_templates_share_a_folder():
    names = Counter(name for template in TEMPLATES for name in template.messages)

    assert [name for name, count in names.items() if count > 1] == []


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.name)
def test_marketing_emails_carry_the_unsubscribe_link(template):
    instance = instantiate(template)
    marketing = {
        step.send.template
        for step in instance.version.journey.steps
        if isinstance(step, Send) and step.send.purpose != "transactional"
    }
    for name in marketing:
        document = yaml.safe_load(instance.message_texts[name])
        for language, parts in document.get("email", {}).items():
            assert "{{ unsubscribe_url }}" in parts["text"], (name, language)


def test_an_unknown_template_is_refused_with_the_closest_name_and_the_list():
    with pytest.raises(TemplateNotFound) as missing:
        get_template("first-purchse")

    said = str(missing.value)
    assert "no template 'first-purchse' (did you mean 'first-purchase'?)" in said
    assert re.search(r"templates are: abandoned-checkout, .*wholesale-buyer", said)


def test_the_catalogue_in_the_docs_describes_every_template_and_its_parameters():
    doc = (Path(__file__).resolve().parents[3] / "docs" / "templates.md").read_text(encoding="utf-8")

    for template in TEMPLATES:
        assert f"### {template.name}: {template.info.title}" in doc
        assert template.info.measures in doc
        for name in template.parameters:
            assert f"`{name}`" in doc, (template.name, name)
