"""Documents that would take the server down are refused as problems: nesting past MAX_DEPTH, aliases that
expand past MAX_VALUES, an alias inside its own anchor; and JSON documents are read with JSON's errors."""

from __future__ import annotations

import json

import pytest

from onboardflow.core.validation import (
    MAX_DEPTH,
    JourneyInvalid,
    load_journey,
    load_json_journey,
)

JOURNEY = {"id": "j", "name": "J", "owner": "o@shop.example", "trigger": {"event": "Signed Up"},
           "steps": [{"id": "a", "wait": "1d"}, {"id": "b", "send": {"channel": "email", "template": "t"}}]}


def problems(read, text: str):
    with pytest.raises(JourneyInvalid) as raised:
        read(text, source="body")
    return raised.value.problems


def alias_bomb(levels: int) -> str:
    lines = ["l0: &l0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 10)}]" for n in range(1, levels)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("read", [load_journey, load_json_journey])
def test_nesting_past_the_limit_is_a_problem_with_its_line(read):
    deep = {"id": "j", "name": "J", "owner": "o", "trigger": {"event": "X"}, "steps": []}
    inner = deep
    for _ in range(MAX_DEPTH + 5):
        inner["more"] = {}
        inner = inner["more"]
    text = json.dumps(deep, indent=1)

    [problem] = problems(read, text)

    assert f"more than {MAX_DEPTH} deep" in problem.message
    assert problem.line is not None and problem.line > MAX_DEPTH


def test_nesting_deeper_than_python_recursion_is_a_problem_not_a_crash():
    [problem] = problems(load_json_journey, "[" * 100_000)
    assert "deep" in problem.message
    [problem] = problems(load_journey, "[" * 3_000)
    assert "deep" in problem.message


def test_aliases_that_would_expand_to_millions_are_refused():
    [problem] = problems(load_journey, alias_bomb(8))

    assert "expands to more than" in problem.message and "aliases" in problem.message


def test_a_few_aliases_are_fine():
    shared = "defaults: &send {channel: email, template: t}\n" + "\n".join([
        "id: j", "name: J", "owner: o@shop.example", "trigger: {event: Signed Up}",
        "steps:", "  - {id: a, send: *send}", "  - {id: b, send: *send}",
    ])
    [problem] = problems(load_journey, shared)
    assert problem.field == "defaults"  # an unknown field, nothing worse: the aliases read


def test_an_alias_inside_its_own_anchor_is_refused():
    [problem] = problems(load_journey, "steps: &s [*s]\n")
    assert "refers to the node it is in" in problem.message


def test_json_is_read_with_lines_for_every_problem():
    document = {**JOURNEY, "steps": [{"id": "a", "wait": "soon"}]}
    text = json.dumps(document, indent=2)

    [problem] = problems(load_json_journey, text)

    assert (problem.step_id, problem.field) == ("a", "wait")
    assert text.splitlines()[problem.line - 1].strip() == '"wait": "soon"'


def test_json_that_does_not_parse_names_line_and_column():
    [problem] = problems(load_json_journey, '{"id": "j",\n  "name": ,}')

    assert problem.line == 2 and problem.message.startswith("not valid JSON: Expecting value (column 11)")


def test_json_the_yaml_reader_cannot_place_still_gets_every_problem():
    text = json.dumps({**JOURNEY, "name": ""}, indent="\t")  # tabs: fine for JSON, not for YAML

    [problem] = problems(load_json_journey, text)

    assert problem.field == "name" and problem.line is None
    assert load_json_journey(json.dumps(JOURNEY, indent="\t")).id == "j"
