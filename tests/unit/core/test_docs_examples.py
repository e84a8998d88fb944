"""The examples of docs/journey-language.md, run, so the reference cannot drift from the code.

- a ```yaml block whose first line is `id:` is a whole journey: it must validate;
- a ```yaml block whose first line is `steps:` is a snippet: it must validate under a plain header;
- a ```yaml block whose first line is `# invalid` must fail, with exactly the report in the ```text
  block that follows it;
- every line of a ```cel block must compile.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from onboardflow.core.conditions import compile_condition
from onboardflow.core.validation import JourneyInvalid, load_journey

DOC = Path(__file__).resolve().parents[3] / "docs" / "journey-language.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
SNIPPET_HEAD = "id: snippet\nname: Snippet\nowner: docs@shop.example\ntrigger: {event: Order Completed}\n"


def blocks() -> list[tuple[int, str, str]]:
    """Every fenced block of the doc as (line of its fence, language, text)."""
    text = DOC.read_text(encoding="utf-8")
    return [
        (text.count("\n", 0, match.start()) + 1, match.group(1), match.group(2))
        for match in FENCE.finditer(text)
    ]


def of_kind(first_line: str) -> list:
    found = [
        (line, body)
        for line, language, body in blocks()
        if language == "yaml" and body.startswith(first_line)
    ]
    return [pytest.param(body, id=f"line {line}") for line, body in found]


def test_the_doc_has_examples_of_every_kind():
    assert len(of_kind("id:")) >= 3
    assert len(of_kind("steps:")) >= 5
    assert len(of_kind("# invalid")) >= 1
    assert any(language == "cel" for _, language, _ in blocks())


@pytest.mark.parametrize("text", of_kind("id:"))
def test_whole_journey_in_the_doc_validates(text):
    load_journey(text, source=str(DOC))


@pytest.mark.parametrize("text", of_kind("steps:"))
def test_step_snippet_in_the_doc_validates(text):
    load_journey(SNIPPET_HEAD + text, source=str(DOC))


def test_every_yaml_block_in_the_doc_is_yaml():
    for line, language, body in blocks():
        if language == "yaml":
            assert isinstance(yaml.safe_load(body), dict), f"the block at line {line} is not a mapping"


def test_invalid_example_in_the_doc_fails_with_the_report_shown_after_it():
    found = blocks()
    checked = 0
    for index, (line, language, body) in enumerate(found):
        if language != "yaml" or not body.startswith("# invalid"):
            continue
        _, report_language, report = found[index + 1]
        assert report_language == "text", (
            f"the invalid example at line {line} needs a ```text report after it"
        )
        with pytest.raises(JourneyInvalid) as raised:
            load_journey(body, source="journey.yaml")
        assert str(raised.value) == report.rstrip("\n")
        checked += 1
    assert checked


def test_every_condition_in_the_doc_compiles():
    conditions = [text for _, language, body in blocks() if language == "cel" for text in body.splitlines()]
    assert conditions
    for source in conditions:
        compile_condition(source)
