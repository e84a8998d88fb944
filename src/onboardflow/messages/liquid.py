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
    """One compiled template text (an email subject, an SMS body, a WhatsApp parameter)."""

    source: str
    bound: BoundTemplate = field(repr=False)

    def render(self, variables: Mapping[str, Any]) -> str:
        """The text for these variables; a broken filter call or a limit reached raises LiquidRenderError."""
        try:
            return self.bound.render(**variables)
        except ResourceLimitError as error:
            raise LiquidRenderError(f"stopped: {error.message} (templates have resource limits; "
                                    "loop over fewer items or write less)", _line(error)) from None
        except LiquidError as error:
            raise LiquidRenderError(str(error.message), _line(error)) from None


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
    return (None if errors else Liquid(source, bound)), errors, warnings


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
