"""Liquid for message templates: one environment with resource limits, checks at load time, errors for people.

Templates are written by marketers and rendered inside workers, so a runaway loop or a huge output must
stop with an error instead of taking a worker down: the limits below bound every render. A missing
variable renders empty (a profile without a first name is normal); a bad tag or an unknown filter is an
error when the template is loaded, never in the middle of a send.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from liquid import BoundTemplate, Environment
from liquid.exceptions import LiquidError, ResourceLimitError

# What a template sees; any other root name is a typo (`custmer.email`) and gets a warning at load time.
VARIABLES = ("customer", "trigger", "journey", "step", "message", "unsubscribe_url")


class MessageEnvironment(Environment):
    """python-liquid with the limits a message needs, and far below what would hurt a worker."""

    block_nesting_limit = 20  # nested tags (if inside for inside case …)
    context_depth_limit = 10  # render contexts stacked by tags that extend them
    loop_iteration_limit = 2_000  # all loop iterations of one render, nested loops multiplied
    local_namespace_limit = 64 * 1024  # bytes held by `assign` / `capture` variables
    output_stream_limit = 256 * 1024  # bytes of output: a long HTML email is well under 100 KB


def money(value: object, currency: object = None) -> str:
    """`{{ trigger.total | money: trigger.currency }}` → `1,234.50 USD`: two decimals, the code after.

    Not a number (a missing total, say) renders empty rather than failing the message.
    """
    try:
        amount = f"{float(str(value)):,.2f}"
    except ValueError:
        return ""
    return f"{amount} {currency}" if isinstance(currency, str) and currency else amount


def _environment(*, autoescape: bool) -> MessageEnvironment:
    environment = MessageEnvironment(autoescape=autoescape)
    environment.add_filter("money", money)
    return environment


TEXT = _environment(autoescape=False)
HTML = _environment(autoescape=True)  # customer data in an HTML part is escaped


@dataclass(frozen=True, slots=True)
class LiquidIssue:
    """A problem in one template text; `line` counts from 1 within that text."""

    message: str
    line: int | None = None


class LiquidRenderError(ValueError):
    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass(frozen=True)
class Liquid:
    """One compiled template text (an email subject, an SMS body, a WhatsApp parameter).

    `reads` are the variable paths the text reads (None: not known statically, or a filter that reads the
    clock): the same values at those paths render the same text, so renders are kept by those values.
    Subjects and short texts that read only a first name repeat across thousands of customers.
    """

    source: str
    bound: BoundTemplate = field(repr=False)
    reads: tuple[tuple[str, ...], ...] | None = field(default=None, repr=False, compare=False)
    _renders: dict[tuple, str] = field(default_factory=dict, init=False, repr=False, compare=False)

    def render(self, variables: Mapping[str, Any]) -> str:
        """The text for these variables; a broken filter call or a limit reached raises LiquidRenderError."""
        key = None if self.reads is None else _values_at(variables, self.reads)
        if key is not None:
            text = self._renders.get(key)
            if text is None:
                text = self._render(variables)
                if len(self._renders) >= _RENDERS_KEPT:
                    self._renders.clear()
                self._renders[key] = text
            return text
        return self._render(variables)

    def _render(self, variables: Mapping[str, Any]) -> str:
        try:
            return self.bound.render(**variables)
        except ResourceLimitError as error:
            raise LiquidRenderError(f"stopped: {error.message} (templates have resource limits; "
                                    "loop over fewer items or write less)", _line(error)) from None
        except LiquidError as error:
            raise LiquidRenderError(str(error.message), _line(error)) from None


_RENDERS_KEPT = 4096  # a template's kept renders; texts with an order id or a link rarely repeat
_PLAIN = (str, int, float, bool, type(None))  # values that cannot change under a kept render
_ABSENT = object()
# `date` reads the clock for "now" and "today"; `include` and `render` read other templates
_UNKEPT_FILTERS = frozenset({"date"})
_UNKEPT_TAGS = frozenset({"include", "render"})


def _values_at(variables: Mapping[str, Any], reads: tuple[tuple[str, ...], ...]) -> tuple | None:
    """The values at these paths, or None when one is not a plain value (a list, an object, a path
    that goes on past a string): such a render depends on more than the key would say."""
    values = []
    for path in reads:
        value: Any = variables
        for name in path:
            if not isinstance(value, dict):
                return None
            value = value.get(name, _ABSENT)
            if value is _ABSENT:
                break
        if value is not _ABSENT and not isinstance(value, _PLAIN):
            return None
        # with its type, as True == 1 == 1.0 render differently; a float by repr, as 0.0 == -0.0
        values.append((value.__class__, repr(value) if value.__class__ is float else value))
    return tuple(values)


def _reads(analysis: Any) -> tuple[tuple[str, ...], ...] | None:
    """The paths of the global variables a template reads, when all are plain names (no `a[b]`)."""
    if _UNKEPT_FILTERS & analysis.filters.keys() or _UNKEPT_TAGS & analysis.tags.keys():
        return None
    paths = [found.segments for founds in analysis.globals.values() for found in founds]
    if any(not isinstance(name, str) for path in paths for name in path):
        return None
    return tuple(sorted({tuple(path) for path in paths}))


def compile_liquid(
    source: str, *, html: bool = False
) -> tuple[Liquid | None, list[LiquidIssue], list[LiquidIssue]]:
    """Parse one template text: (the template or None, its errors, its warnings)."""
    environment = HTML if html else TEXT
    try:
        bound = environment.from_string(source)
    except LiquidError as error:
        # An unclosed tag is found at the end of the text, where the error has no position.
        line = _line(error) or source.rstrip("\n").count("\n") + 1
        return None, [LiquidIssue(f"Liquid syntax error: {error.message}", line)], []
    analysis = bound.analyze()
    errors = [
        LiquidIssue(_unknown_filter(name, environment), _line_at(source, spans[0].index))
        for name, spans in analysis.filters.items()
        if name not in environment.filters
    ]
    warnings = [
        LiquidIssue(f"unknown variable {name!r} renders empty: templates see {', '.join(VARIABLES)}",
                    _line_at(source, found[0].span.index))
        for name, found in analysis.globals.items()
        if name not in VARIABLES
    ]
    return (None if errors else Liquid(source, bound, _reads(analysis))), errors, warnings


def _unknown_filter(name: str, environment: Environment) -> str:
    close = difflib.get_close_matches(name, environment.filters, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ": see the filters listed in docs/messages.md"
    return f"unknown filter {name!r}{hint}"


def _line(error: LiquidError) -> int | None:
    token = error.token
    if token is None or token.start_index < 0:
        return None
    return _line_at(token.source, token.start_index)


def _line_at(source: str, index: int) -> int:
    return source.count("\n", 0, index) + 1
