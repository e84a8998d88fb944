"""A journey's send steps against its templates; the shipped examples have a template for every send."""

from __future__ import annotations

from pathlib import Path

import pytest

from onboardflow.catalog import example_files, load_journey_files
from onboardflow.core.journey import Send
from onboardflow.core.model import Customer
from onboardflow.core.validation import load_journey
from onboardflow.messages.checks import check_send_steps
from onboardflow.messages.content import EmailContent, SmsContent
from onboardflow.messages.loading import load_templates, read_template
from onboardflow.messages.templates import MessageScope, TemplateSet, render_message

EXAMPLES = Path(__file__).resolve().parents[3] / "src" / "onboardflow" / "examples"

JOURNEY = """\
id: shipping
name: Shipping
owner: ops@shop.example
trigger: {event: Order Shipped}
steps:
  - id: shipped
    send: {channel: [sms, email], template: order_shipped}
  - id: survey
    send: {channel: [telegram, email], template: survey}
  - id: thanks
    send: {channel: email, template: thanks}
"""


def templates(**texts: str) -> TemplateSet:
    found = {}
    for name, text in texts.items():
        template, problems, _ = read_template(text, name=name, source=f"templates/{name}.yaml")
        assert problems == []
        found[name] = template
    return TemplateSet(found)


EMAIL = "email:\n  default: {subject: s, text: t}\n"
SMS = "sms:\n  default: {text: t}\n"


def test_a_journey_whose_templates_cover_every_channel_has_no_problems():
    journey = load_journey(JOURNEY.replace("telegram", "sms")).journey

    found = templates(order_shipped=EMAIL + SMS, survey=EMAIL + SMS, thanks=EMAIL)

    assert check_send_steps(journey, found) == []


def test_every_missing_template_channel_and_unknown_channel_is_named_with_journey_step_and_field():
    journey = load_journey(JOURNEY).journey

    problems = check_send_steps(journey, templates(order_shipped=EMAIL, survey=EMAIL))

    assert problems == [
        "journey 'shipping': step 'shipped': field send.channel: template 'order_shipped' "
        "(templates/order_shipped.yaml) has no sms variant: add a `sms:` section with a `default:` variant, "
        "or take sms off it",
        "journey 'shipping': step 'survey': field send.channel: unknown channel 'telegram': channels are "
        "email, sms, whatsapp, push, in_app",
        "journey 'shipping': step 'thanks': field send.template: no template 'thanks' in templates: "
        "add templates/thanks.yaml",
    ]


def test_a_template_whose_file_failed_to_load_is_not_reported_twice():
    journey = load_journey(JOURNEY.replace("telegram", "sms")).journey

    problems = check_send_steps(journey, templates(order_shipped=EMAIL + SMS, survey=EMAIL + SMS),
                                unreadable={"thanks"})

    assert problems == []


# the shipped examples


def example_templates() -> TemplateSet:
    load = load_templates(EXAMPLES / "templates")
    assert (load.problems, load.warnings) == ([], [])
    return load.templates


def test_the_example_journeys_have_a_template_for_every_send_step_and_channel():
    loaded, problems = load_journey_files([EXAMPLES])

    assert problems == [] and len(loaded) == len(example_files())
    for _, version in loaded:
        assert check_send_steps(version.journey, example_templates()) == [], version.id


def test_no_example_template_is_left_unused():
    loaded, _ = load_journey_files([EXAMPLES])
    steps = [step for _, version in loaded for step in version.journey.steps]
    used = {step.send.template for step in steps if isinstance(step, Send)}

    assert used == set(example_templates().templates)


ANA = Customer(id="c_1", email="ana@example.com", phone="+15551234567", locale="en-US",
               traits={"first_name": "Ana", "type": "retail"})
ORDER = {"id": "e1", "name": "Order Completed", "order_id": "o_9", "total": 120.0, "currency": "USD",
         "products": [{"product_id": "p_1", "category": "skincare", "price": 60.0, "quantity": 2}]}


@pytest.mark.parametrize("name", sorted(load_templates(EXAMPLES / "templates").templates.templates))
def test_every_example_template_renders_on_every_channel_it_has(name):
    found = example_templates()
    scope = MessageScope.of(ANA, trigger=ORDER, journey_id="j", step_id="s", message_id="m",
                            unsubscribe_url="https://shop.example/unsubscribe/t0k3n")

    for channel in found.get(name).channels:
        content = render_message(found, name, channel, scope)
        if isinstance(content, EmailContent):
            assert content.subject and content.text and "{{" not in content.text
        if isinstance(content, SmsContent):
            assert content.segments == 1 and content.encoding == "GSM-7"


def test_the_example_marketing_emails_carry_the_unsubscribe_link():
    found = example_templates()
    scope = MessageScope.of(ANA, trigger=ORDER, unsubscribe_url="https://shop.example/unsubscribe/t0k3n")
    loaded, _ = load_journey_files([EXAMPLES])
    marketing = {
        step.send.template for _, version in loaded for step in version.journey.steps
        if isinstance(step, Send) and step.send.purpose != "transactional" and "email" in step.send.channels
    }

    assert marketing  # usage_tips, review_request, complete_profile, login_nudge
    for name in marketing:
        email = render_message(found, name, "email", scope)
        assert "https://shop.example/unsubscribe/t0k3n" in email.text, name
        assert 'href="https://shop.example/unsubscribe/t0k3n"' in email.html, name


def test_the_welcome_example_speaks_french_to_a_quebec_customer():
    scope = MessageScope.of(Customer(id="c_2", locale="fr-CA", traits={"first_name": "Élise"}), trigger=ORDER)

    email = render_message(example_templates(), "welcome", "email", scope)

    assert email.subject == "Merci pour votre commande, Élise !"
    assert "Total : 120.00 USD" in email.text
