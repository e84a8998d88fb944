"""A template made into a journey: its parameters resolved and put in place, the result checked the way
`onboardflow validate` checks it, and written out as files a person can edit.

A placeholder is `${name}`. Its value is written to suit the YAML around it: escaped inside a quoted
string, as it is in a block (`|`) or a plain scalar. A text parameter may stand only in a quoted string
or a block, where any line of text is safe; the library's tests hold every template to that.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from onboardflow.core.validation import JourneyInvalid, load_journey
from onboardflow.core.version import JourneyVersion
from onboardflow.messages.checks import check_send_steps
from onboardflow.messages.loading import read_template
from onboardflow.messages.templates import TEMPLATES_FOLDER, TemplateSet
from onboardflow.templates.library import JourneyTemplate
from onboardflow.templates.parameters import Parameter, ParametersInvalid, resolve, shown

PLACEHOLDER = re.compile(r"\$\{([a-z_][a-z0-9_]*)\}")
LIQUID_DELIMITERS = ("{{", "}}", "{%", "%}")
FREE_TEXT = ("text",)  # kinds whose values may hold YAML's special characters


class TemplateBroken(ValueError):
    """The template itself is wrong (a bug of the library, not of the values given)."""


class FileExists(ValueError):
    def __init__(self, paths: list[Path]) -> None:
        super().__init__(", ".join(map(str, paths)))
        self.paths = paths


@dataclass(frozen=True)
class Instance:
    """A template with its values: the journey and message files' texts, read and checked."""

    template: JourneyTemplate
    values: dict[str, Any]
    journey_text: str
    message_texts: dict[str, str]
    version: JourneyVersion
    messages: TemplateSet
    warnings: list[str] = field(default_factory=list)

    @property
    def journey_file(self) -> str:
        return f"{self.version.id}.yaml"


def instantiate(template: JourneyTemplate, given: dict[str, Any] | None = None) -> Instance:
    """The template with `given` values (defaults for the rest). Bad values raise ParametersInvalid."""
    values = resolve(template.name, template.parameters, given or {})
    _refuse_liquid(values, template.parameters)
    specs = template.parameters
    journey_text = _header(template, values) + substitute(
        template.journey, values, specs, source=f"{template.name}/journey.yaml"
    )
    texts = {
        name: substitute(text, values, specs, source=f"{template.name}/{TEMPLATES_FOLDER}/{name}.yaml")
        for name, text in template.messages.items()
    }
    try:
        version = load_journey(journey_text, source=f"{template.name}/journey.yaml")
    except JourneyInvalid as invalid:
        raise TemplateBroken(str(invalid)) from None
    messages, warnings = _read_messages(texts, template.name)
    problems = check_send_steps(version.journey, messages)
    if problems:
        raise TemplateBroken("\n".join(problems))
    return Instance(template, values, journey_text, texts, version, messages, warnings)


def _header(template: JourneyTemplate, values: dict[str, Any]) -> str:
    """Comment lines saying where the journey came from and with which values: it is yours to edit now."""
    lines = [
        f"# From the onboardflow template {template.name!r} (onboardflow templates show {template.name}),",
        "# with these parameters:",
    ]
    lines += [f"#   {name} = {shown(template.parameters[name], value)}" for name, value in values.items()]
    return "\n".join(lines) + "\n"


def _refuse_liquid(values: dict[str, Any], specs: dict[str, Parameter]) -> None:
    """A value goes into message copy as it is: Liquid's delimiters in it would be read as Liquid."""
    problems = [
        f"parameter {name!r}: {value!r} holds a Liquid delimiter ({', '.join(LIQUID_DELIMITERS)}): "
        "write the text without it"
        for name, value in values.items()
        if specs[name].type in FREE_TEXT and any(mark in str(value) for mark in LIQUID_DELIMITERS)
    ]
    if problems:
        raise ParametersInvalid(problems)


def _read_messages(texts: dict[str, str], name: str) -> tuple[TemplateSet, list[str]]:
    found, problems, warnings = {}, [], []
    for message, text in texts.items():
        source = f"{name}/{TEMPLATES_FOLDER}/{message}.yaml"
        template, wrong, warned = read_template(text, name=message, source=source)
        problems.extend(map(str, wrong))
        warnings.extend(map(str, warned))
        if template is not None:
            found[message] = template
    if problems:
        raise TemplateBroken("\n".join(problems))
    return TemplateSet(found, folder=TEMPLATES_FOLDER), warnings


def substitute(text: str, values: dict[str, Any], specs: dict[str, Parameter], *, source: str) -> str:
    """`text` with every `${name}` replaced by its value, written to suit the YAML scalar it stands in."""
    scalars = _scalars(text, source)
    pieces, last = [], 0
    for match in PLACEHOLDER.finditer(text):
        name = match.group(1)
        if name not in values:
            raise TemplateBroken(f"{source}: ${{{name}}} is not a parameter of the template")
        style = next((style for start, end, style in scalars if start <= match.start() < end), None)
        pieces += [
            text[last : match.start()],
            _written(shown(specs[name], values[name]), style, specs[name], f"{source}: ${{{name}}}"),
        ]
        last = match.end()
    return "".join([*pieces, text[last:]])


def _scalars(text: str, source: str) -> list[tuple[int, int, str | None]]:
    try:
        return [
            (token.start_mark.index, token.end_mark.index, token.style)
            for token in yaml.scan(text, Loader=yaml.SafeLoader)
            if isinstance(token, yaml.ScalarToken)
        ]
    except yaml.YAMLError as error:
        raise TemplateBroken(f"{source}: not YAML: {error}") from None


def _written(value: str, style: str | None, spec: Parameter, where: str) -> str:
    if style == '"':
        return value.replace("\\", "\\\\").replace('"', '\\"')
    if style == "'":
        return value.replace("'", "''")
    if style is None and spec.type in FREE_TEXT:
        raise TemplateBroken(f"{where} is a text parameter in a plain YAML scalar: put it in quotes")
    return value


def write_instance(instance: Instance, folder: Path, *, force: bool = False) -> list[Path]:
    """Write the journey to `folder` and its message templates to `folder/templates/`. An existing journey
    file, or a message template file that differs, is refused (FileExists) unless `force`."""
    journey = folder / instance.journey_file
    messages = {
        folder / TEMPLATES_FOLDER / f"{name}.yaml": text for name, text in instance.message_texts.items()
    }
    clashes = [journey] if journey.exists() else []
    clashes += [
        path for path, text in messages.items() if path.exists() and path.read_text(encoding="utf-8") != text
    ]
    if clashes and not force:
        raise FileExists(clashes)
    (folder / TEMPLATES_FOLDER).mkdir(parents=True, exist_ok=True)
    written = []
    for path, text in {journey: instance.journey_text, **messages}.items():
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
