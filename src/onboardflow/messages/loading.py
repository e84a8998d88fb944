"""Reading template files: one YAML file per template name, every problem reported with file and line.

A file maps channels to locales to parts (docs/messages.md shows the shape). Every Liquid text is
compiled here, so a bad tag or an unknown filter stops the load, never a send.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from onboardflow.core.validation import Problem
from onboardflow.messages.liquid import LiquidIssue, compile_liquid
from onboardflow.messages.sms import DEFAULT_SEGMENT_LIMIT, segment_warning
from onboardflow.messages.templates import (
    CHANNELS,
    DEFAULT_LOCALE,
    TEMPLATES_FOLDER,
    MessageScope,
    MessageTemplate,
    Part,
    TemplateSet,
    Variant,
    normalise_locale,
)

SUFFIXES = (".yaml", ".yml")
PUSH_PARTS = {"title": True, "body": True, "deep_link": False}
# Liquid parts of each channel, True when required. WhatsApp's static fields are read on their own.
PARTS: dict[str, dict[str, bool]] = {
    "email": {"subject": True, "text": True, "html": False},
    "sms": {"text": True},
    "whatsapp": {"text": False},
    "push": PUSH_PARTS,
    "in_app": PUSH_PARTS,
}
WHATSAPP_FIELDS = ("template", "language", "parameters")
LOCALE = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")
WHATSAPP_NAME = re.compile(r"^[a-z0-9_]{1,512}$")
WHATSAPP_LANGUAGE = re.compile(r"^[a-z]{2,3}(_[A-Z][A-Za-z]{1,3})?$")
NULL_TAG = "tag:yaml.org,2002:null"


@dataclass
class TemplateLoad:
    """A folder read: the templates that read cleanly, the problems (errors) and the warnings."""

    templates: TemplateSet
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    unreadable: set[str] = field(default_factory=set)  # names whose files have problems


class TemplatesInvalid(ValueError):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(problem) for problem in problems))
        self.problems = problems


def load_templates(folder: Path, *, segment_limit: int = DEFAULT_SEGMENT_LIMIT) -> TemplateLoad:
    """Every template file in `folder` (name.yaml is template `name`), with every problem found."""
    found: dict[str, MessageTemplate] = {}
    load = TemplateLoad(TemplateSet(found, folder=str(folder)))
    if not folder.is_dir():
        load.problems.append(Problem(str(folder), "no such folder: template files go in a templates/ folder"))
        return load
    files = sorted(p for p in folder.iterdir() if p.suffix in SUFFIXES and p.is_file())
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            load.problems.append(Problem(str(path), f"cannot read the file: {error}"))
            load.unreadable.add(path.stem)
            continue
        template, problems, warnings = read_template(text, name=path.stem, source=str(path),
                                                     segment_limit=segment_limit)
        load.problems.extend(problems)
        load.warnings.extend(warnings)
        if template is None:
            load.unreadable.add(path.stem)
        if template is not None and path.stem in found:
            other = found[path.stem].source
            load.problems.append(Problem(str(path), f"template {path.stem!r} is also {other}: keep one", 1))
        elif template is not None:
            found[path.stem] = template
    return load


def load_templates_strict(folder: Path, *, segment_limit: int = DEFAULT_SEGMENT_LIMIT) -> TemplateSet:
    """The templates of `folder`, or TemplatesInvalid listing every problem."""
    load = load_templates(folder, segment_limit=segment_limit)
    if load.problems:
        raise TemplatesInvalid(load.problems)
    return load.templates


def templates_from_texts(texts: dict[str, str], *, folder: str = TEMPLATES_FOLDER) -> TemplateSet:
    """Templates given as texts by name (shipped examples, tests), or TemplatesInvalid listing every problem."""
    found, problems = {}, []
    for name, text in texts.items():
        template, wrong, _ = read_template(text, name=name, source=f"{folder}/{name}.yaml")
        problems.extend(wrong)
        if template is not None:
            found[name] = template
    if problems:
        raise TemplatesInvalid(problems)
    return TemplateSet(found, folder=folder)


def read_template(text: str, *, name: str, source: str, segment_limit: int = DEFAULT_SEGMENT_LIMIT,
                  ) -> tuple[MessageTemplate | None, list[Problem], list[Problem]]:
    """One template file's text: (the template, or None when it has problems; problems; warnings)."""
    reader = _Reader(source, segment_limit)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        return None, [_yaml_problem(error, text, source)], []
    template = reader.template(name, root)
    problems = sorted(reader.problems, key=lambda problem: problem.line or 0)
    warnings = sorted(reader.warnings, key=lambda problem: problem.line or 0)
    return (None if problems else template), problems, warnings


def _yaml_problem(error: yaml.YAMLError, text: str, source: str) -> Problem:
    mark = getattr(error, "problem_mark", None)
    line = mark.line + 1 if mark else None
    message = f"not valid YAML: {getattr(error, 'problem', None) or error}"
    lines = text.splitlines()
    if line and line <= len(lines) and ("{{" in lines[line - 1] or "{%" in lines[line - 1]):
        message += "; Liquid on one line needs quotes around the whole text, or a `|` block below its key"
    return Problem(source, message, line)


class _Reader:
    """Walks the YAML nodes (not the loaded values) so that every problem knows its line."""

    def __init__(self, source: str, segment_limit: int) -> None:
        self.source = source
        self.segment_limit = segment_limit
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []

    def problem(self, message: str, node: yaml.Node | None, field: str | None = None) -> None:
        self.problems.append(Problem(self.source, message, _line(node), None, field))

    def warn(self, message: str, line: int | None, field: str | None = None) -> None:
        self.warnings.append(Problem(self.source, message, line, None, field))

    def template(self, name: str, root: yaml.Node | None) -> MessageTemplate | None:
        if not isinstance(root, yaml.MappingNode):
            self.problem(f"a template file maps channels ({', '.join(CHANNELS)}) to locales", root)
            return None
        channels: dict[str, dict[str, Variant]] = {}
        for key, key_node, value in self.pairs(root, None):
            if key == "description":
                continue
            if key not in CHANNELS:
                self.problem(f"unknown channel {key!r}{_suggest(key, CHANNELS)}: channels are "
                             f"{', '.join(CHANNELS)} (and `description`)", key_node, key)
                continue
            channels[key] = self.channel(key, key_node, value)
        if not channels:
            self.problem(f"the template has no channel: add one of {', '.join(CHANNELS)}", root)
        return MessageTemplate(name, self.source, channels)

    def pairs(self, node: yaml.MappingNode, field: str | None) -> list[tuple[str, yaml.Node, yaml.Node]]:
        """A mapping's (key, key node, value node), reporting a key written twice."""
        seen: set[str] = set()
        found = []
        for key_node, value in node.value:
            key = str(key_node.value)
            if key in seen:
                where = f"{field}.{key}" if field else key
                self.problem(f"{key!r} is written twice: keep one", key_node, where)
                continue
            seen.add(key)
            found.append((key, key_node, value))
        return found

    def channel(self, channel: str, key_node: yaml.Node, node: yaml.Node) -> dict[str, Variant]:
        if not isinstance(node, yaml.MappingNode):
            self.problem(f"{channel} maps locales (`default`, `fr`, `fr-CA` …) to its parts", node, channel)
            return {}
        variants: dict[str, Variant] = {}
        for locale, locale_node, value in self.pairs(node, channel):
            if locale != DEFAULT_LOCALE and not LOCALE.match(locale):
                self.problem(f"{locale!r} is not a locale: write `default`, a language (`fr`) or a language "
                             "and region (`fr-CA`)", locale_node, f"{channel}.{locale}")
                continue
            key = normalise_locale(locale)
            if key in variants:
                self.problem(f"locale {locale!r} is also written as {variants[key].locale!r}: keep one",
                             locale_node, f"{channel}.{locale}")
                continue
            variant = self.variant(channel, locale, locale_node, value)
            if variant is not None:
                variants[key] = variant
        if DEFAULT_LOCALE not in variants and variants:
            self.problem("no `default` variant: add one, for customers whose locale has no variant",
                         key_node, channel)
        return variants

    def variant(self, channel: str, locale: str, key_node: yaml.Node, node: yaml.Node) -> Variant | None:
        where = f"{channel}.{locale}"
        if not isinstance(node, yaml.MappingNode):
            names = ", ".join(self.part_names(channel))
            self.problem(f"{where} maps parts to their text: {names}", node, where)
            return None
        values = {key: (key_node, value) for key, key_node, value in self.pairs(node, where)}
        for key, (part_node, _) in values.items():
            if key not in self.part_names(channel):
                self.problem(f"unknown part {key!r}{_suggest(key, self.part_names(channel))}: {channel} has "
                             f"{', '.join(self.part_names(channel))}", part_node, f"{where}.{key}")
        parts = self.parts(channel, where, key_node, values)
        if channel == "whatsapp":
            return self.whatsapp(locale, key_node, values, parts)
        return Variant(locale, parts)

    @staticmethod
    def part_names(channel: str) -> tuple[str, ...]:
        return (*PARTS[channel], *(WHATSAPP_FIELDS if channel == "whatsapp" else ()))

    def parts(self, channel: str, where: str, key_node: yaml.Node, values: dict) -> dict[str, Part]:
        parts: dict[str, Part] = {}
        for name, required in PARTS[channel].items():
            if name not in values:
                if required:
                    needed = " and ".join(n for n, r in PARTS[channel].items() if r)
                    self.problem(f"missing: {channel} needs {needed}", key_node, f"{where}.{name}")
                continue
            part = self.liquid(values[name][1], f"{where}.{name}", html=name == "html")
            if part is not None:
                parts[name] = part
        if channel == "sms" and "text" in parts:
            self.check_segments(parts["text"], f"{where}.text")
        return parts

    def liquid(self, node: yaml.Node, field: str, *, html: bool = False) -> Part | None:
        text = self.scalar(node, field)
        if text is None:
            return None
        first = _first_text_line(node)
        liquid, errors, warnings = compile_liquid(text, html=html)
        for issue in errors:
            self.problems.append(Problem(self.source, issue.message, _file_line(first, issue), None, field))
        for issue in warnings:
            self.warn(issue.message, _file_line(first, issue), field)
        return Part(liquid, first) if liquid is not None else None

    def scalar(self, node: yaml.Node, field: str) -> str | None:
        """The text as written (a YAML number stays its digits); empty and non-text values are problems."""
        if not isinstance(node, yaml.ScalarNode):
            braces = isinstance(node, yaml.MappingNode)
            hint = "; a text that starts with {{ needs quotes around it" if braces else ""
            self.problem(f"write text here, not a list or a mapping{hint}", node, field)
            return None
        if node.tag == NULL_TAG or not node.value.strip():
            self.problem("is empty: write its text, or remove the key", node, field)
            return None
        return node.value

    def check_segments(self, part: Part, field: str) -> None:
        """Render the SMS with its variables empty: if even that is past the limit, the author should know."""
        try:
            text = part.liquid.render(MessageScope().variables()).strip()
        except ValueError:
            return  # a filter that needs data: the real render reports it with the data that broke it
        source = part.liquid.source
        has_variables = "{{" in source or "{%" in source
        warning = segment_warning(text, limit=self.segment_limit, at_least=has_variables)
        if warning:
            self.warn(warning, part.line, field)

    def whatsapp(self, locale: str, key_node: yaml.Node, values: dict, parts: dict[str, Part]) -> Variant:
        where = f"whatsapp.{locale}"
        name = self.static(values, "template", WHATSAPP_NAME, where,
                           "lower case letters, digits and _, exactly as approved in WhatsApp Manager")
        language = self.static(values, "language", WHATSAPP_LANGUAGE, where,
                               "a WhatsApp language code such as en, en_US, pt_BR")
        parameters = self.parameters(values.get("parameters"), where)
        if "template" in values and "language" not in values:
            self.problem("a template needs its language: add e.g. `language: en_US`", key_node,
                         f"{where}.language")
        if "template" not in values and ("language" in values or "parameters" in values):
            self.problem("language and parameters belong to an approved `template`: add the template name",
                         key_node, f"{where}.template")
        if "template" not in values and "text" not in values:
            self.problem("needs an approved `template` (with `language` and `parameters`), free `text` "
                         "for the 24 hours after the customer's own message, or both", key_node, where)
        elif "template" not in values:
            self.warn("only free text: it can go only within 24 hours of the customer's own last message, "
                      "and the send fails outside that window; add an approved `template`",
                      _line(key_node), where)
        return Variant(locale, parts, tuple(parameters), name, language)

    def static(self, values: dict, key: str, pattern: re.Pattern, where: str, rule: str) -> str | None:
        if key not in values:
            return None
        text = self.scalar(values[key][1], f"{where}.{key}")
        if text is not None and not pattern.match(text):
            self.problem(f"{text!r} is not valid here: {rule}", values[key][1], f"{where}.{key}")
        return text

    def parameters(self, found: tuple[yaml.Node, yaml.Node] | None, where: str) -> list[Part]:
        if found is None:
            return []
        _, node = found
        if not isinstance(node, yaml.SequenceNode):
            self.problem("parameters is a list, in the order of the template's {{1}}, {{2}} …", node,
                         f"{where}.parameters")
            return []
        parts = [self.liquid(item, f"{where}.parameters.{index}") for index, item in enumerate(node.value, 1)]
        return [part for part in parts if part is not None]


def _line(node: yaml.Node | None) -> int | None:
    return node.start_mark.line + 1 if node is not None else 1


def _first_text_line(node: yaml.ScalarNode) -> int:
    """The file line of the text's first line: after a block's `|` or `>`, else where the value starts."""
    return node.start_mark.line + (2 if node.style in ("|", ">") else 1)


def _file_line(first: int, issue: LiquidIssue) -> int:
    return first + (issue.line or 1) - 1


def _suggest(word: str, choices: tuple[str, ...] | list[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
