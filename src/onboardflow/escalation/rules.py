"""The store's global escalation rules, from a YAML file (ONBOARDFLOW_ESCALATION_RULES_FILE):

    rules:
      - {rule: high_value, order_total: 500, queue: vip}
      - {rule: repeated_complaints, tickets: 3, within: 30d}
      - {rule: negative_sentiment, below: -0.4}

Every problem is reported with the file, line, rule and field, as journey files are.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import TypeAdapter, ValidationError

from onboardflow.core.escalation import EscalationRule, RuleBase, rule_kind
from onboardflow.core.validation import Problem

RULES = TypeAdapter(list[EscalationRule])


class RulesInvalid(ValueError):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(problem) for problem in problems))
        self.problems = problems


def load_rules(path: Path) -> list[RuleBase]:
    """The rules in the file; RulesInvalid naming each problem."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise RulesInvalid([Problem(source, f"cannot read the escalation rules: {error.strerror}")]) from None
    return read_rules(text, source=source)


def read_rules(text: str, *, source: str = "<rules>") -> list[RuleBase]:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise RulesInvalid(
            [
                Problem(
                    source,
                    f"not valid YAML: {getattr(error, 'problem', error)}",
                    mark.line + 1 if mark else None,
                )
            ]
        ) from None
    if not isinstance(document, dict) or not isinstance(document.get("rules"), list):
        raise RulesInvalid(
            [
                Problem(
                    source,
                    "write the rules as a list under `rules:`, e.g. rules: [{rule: refund_request}]",
                    1,
                )
            ]
        )
    try:
        return RULES.validate_python(document["rules"])
    except ValidationError as error:
        raise RulesInvalid(
            [_problem(item, document["rules"], node, source) for item in error.errors()]
        ) from None


def _problem(item: dict[str, Any], rules: list, node: yaml.Node, source: str) -> Problem:
    location = list(item["loc"])
    index = location[0] if location and isinstance(location[0], int) else None
    raw = rules[index] if index is not None and index < len(rules) else None
    if len(location) > 1 and location[1] == rule_kind(raw):
        del location[1]  # the union's tag
    field = ".".join(str(part) for part in ["rules", *location])
    message = item["msg"].removeprefix("Value error, ")
    if item["type"] == "extra_forbidden":
        message = f"unknown field {location[-1]!r}: remove it or check its spelling"
    return Problem(source, message, _line(node, index), None, field)


def _line(node: yaml.Node | None, index: int | None) -> int | None:
    if node is None or index is None:
        return None
    for key, value in getattr(node, "value", []):
        if (
            getattr(key, "value", None) == "rules"
            and isinstance(value, yaml.SequenceNode)
            and index < len(value.value)
        ):
            return value.value[index].start_mark.line + 1
    return None
