"""The examples of docs/messages.md, run, so the page cannot drift from the code.

- the ```yaml block whose first line is `# templates/NAME.yaml` is a template: it loads with no problem;
- the ```json block after it is a scope, and the ```text block starting `# rendered` lists
  `channel.field: value` lines that rendering the template for that scope must give;
- a ```yaml block whose first line is `# invalid: templates/NAME.yaml` must fail with exactly the report
  in the ```text block after it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from onboardflow.core.model import Customer
from onboardflow.messages.loading import read_template
from onboardflow.messages.templates import MessageScope, TemplateSet, render_message

DOC = Path(__file__).resolve().parents[3] / "docs" / "messages.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
TEMPLATE_HEAD = re.compile(r"^# templates/(\w+)\.yaml\n")
INVALID_HEAD = re.compile(r"^# invalid: (templates/(\w+)\.yaml)\n")


def blocks() -> list[tuple[str, str]]:
    return [(match.group(1), match.group(2)) for match in FENCE.finditer(DOC.read_text(encoding="utf-8"))]


def the_example() -> tuple[TemplateSet, str, dict, list[str]]:
    found = blocks()
    index = next(i for i, (kind, body) in enumerate(found) if kind == "yaml" and TEMPLATE_HEAD.match(body))
    name = TEMPLATE_HEAD.match(found[index][1]).group(1)
    template, problems, warnings = read_template(found[index][1], name=name, source=f"templates/{name}.yaml")
    assert (problems, warnings) == ([], [])
    (scope_language, scope_text), (rendered_language, rendered) = found[index + 1], found[index + 2]
    assert (scope_language, rendered_language) == ("json", "text")
    assert rendered.startswith("# rendered\n")
    return TemplateSet({name: template}), name, json.loads(scope_text), rendered.splitlines()[1:]


def test_the_example_template_renders_as_the_page_shows():
    templates, name, scope_data, expected = the_example()
    profile = scope_data["customer"]
    customer = Customer(id=profile["id"], locale=profile["locale"], traits=profile["traits"])
    scope = MessageScope.of(customer, trigger=scope_data["trigger"])

    assert len(expected) >= 8
    for line in expected:
        where, _, value = line.partition(": ")
        channel, field = where.split(".")
        content = render_message(templates, name, channel, scope)
        actual = getattr(content, field)
        shown = ", ".join(actual) if isinstance(actual, tuple) else str(actual)
        assert shown == value, line


def test_the_example_template_has_every_channel():
    templates, name, _, _ = the_example()

    assert set(templates.get(name).channels) == {"email", "sms", "whatsapp", "push", "in_app"}


def test_the_invalid_example_fails_with_the_report_shown_after_it():
    found = blocks()
    checked = 0
    for index, (language, body) in enumerate(found):
        head = INVALID_HEAD.match(body)
        if language != "yaml" or not head:
            continue
        report_language, report = found[index + 1]
        assert report_language == "text"
        template, problems, _ = read_template(body, name=head.group(2), source=head.group(1))
        assert template is None
        assert "\n".join(str(problem) for problem in problems) == report.rstrip("\n")
        checked += 1
    assert checked
