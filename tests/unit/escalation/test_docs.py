"""The examples of docs/escalation.md and docs/intelligence.md, run: the pages cannot drift from the code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from onboardflow.core.validation import JourneyInvalid, load_journey
from onboardflow.escalation.rules import RulesInvalid, read_rules
from onboardflow.messages.loading import templates_from_texts
from onboardflow.messages.templates import MessageScope, render_message

DOCS = Path(__file__).resolve().parents[3] / "docs"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def blocks(page: str, language: str) -> list[str]:
    return [
        match.group(2)
        for match in FENCE.finditer((DOCS / page).read_text(encoding="utf-8"))
        if match.group(1) == language
    ]


def test_the_rules_file_of_the_page_reads_and_has_every_kind():
    [rules_file] = [block for block in blocks("escalation.md", "yaml") if block.startswith("rules:")]

    rules = read_rules(rules_file, source="escalation.yaml")

    assert sorted(rule.rule for rule in rules) == sorted(
        [
            "high_value",
            "repeated_complaints",
            "late_delivery",
            "failed_delivery",
            "payment_failure",
            "refund_request",
            "negative_sentiment",
        ]
    )


def test_the_error_shown_is_the_one_a_rule_without_threshold_gets():
    shown = next(block for block in blocks("escalation.md", "text") if "high_value needs" in block)

    with pytest.raises(RulesInvalid) as raised:
        read_rules("rules:\n  - {rule: refund_request}\n  - {rule: high_value}\n", source="escalation.yaml")

    assert str(raised.value) == shown.strip()


@pytest.mark.parametrize("page", ["escalation.md"])
def test_the_journeys_of_the_page_validate(page):
    journeys = [block for block in blocks(page, "yaml") if block.startswith("id:")]

    assert journeys
    for text in journeys:
        assert load_journey(text, source=page).journey.escalation


def test_the_untrained_score_error_shown_is_the_validators():
    shown = next(block for block in blocks("intelligence.md", "text") if "score.repeat_purchase" in block)
    journey = (
        "id: nudge\nname: Nudge\nowner: growth@shop.example\ntrigger: {event: Order Completed}\nsteps:\n"
        "  - {id: settle, wait: 5d}\n  - id: route\n    branch:\n      - when: score.repeat_purchase < 0.2\n"
        "        goto: done\n  - {id: done, exit: completed}\n"
    )

    with pytest.raises(JourneyInvalid) as raised:
        load_journey(journey, source="journeys/nudge.yaml", scores=[])

    assert str(raised.value) == shown.strip()


def test_the_recommendations_template_of_the_page_renders_each_product():
    [template] = [block for block in blocks("intelligence.md", "yaml") if block.startswith("email:")]
    items = (
        {
            "product_id": "p1",
            "name": "Beans",
            "url": "https://shop.example/p1",
            "image": "https://i/p1.jpg",
            "price": 12.5,
            "category": "coffee",
        },
    )

    content = render_message(
        templates_from_texts({"picks": template}), "picks", "email", MessageScope(recommendations=items)
    )

    assert '<a href="https://shop.example/p1"><img src="https://i/p1.jpg"> Beans' in content.html
    assert "12.50" in content.html
