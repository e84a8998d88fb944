"""Conditions: CEL expressions over `customer`, `event` and `trigger`, compiled once per journey version.

Evaluation hands the CEL runtime only the fields an expression reads, because converting a whole
profile into CEL values costs more than evaluating the expression itself. Even so, one CEL evaluation
costs more than the rest of a step, so two shortcuts keep the runtime off the hot path (see `Reads`):
an expression reading only plain values (strings, integers, booleans, null) remembers its answer for
each set of values it has seen (`customer.orders_count == 1` is worked out once per count), and an
equality between two strings (`event.order_id == trigger.order_id`) is compared in Python.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import cel

VARIABLES = ("customer", "event", "trigger", "score")
SCORES = ("repeat_purchase",)  # what `score` holds: each a model's figure for the customer, 0 to 1
MACROS = ("all", "exists", "exists_one", "map", "filter")

_STRING = re.compile(r"""(?:[rRbB]{0,2})("(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*')""")
_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\S")
_NAME = r"(?<![A-Za-z0-9_.])%s(?![A-Za-z0-9_])"  # a name standing alone, not a field (`x.name`)
_POSITION = re.compile(r"<input>:(\d+):(\d+):\s*(.*?)(?:\n|$)")
_MACRO_BINDING = re.compile(r"\.(?:%s)\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*," % "|".join(MACROS))


class ConditionError(ValueError):
    """A condition that does not compile, or reads a variable that does not exist."""

    def __init__(self, message: str, *, column: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.column = column


@dataclass(frozen=True, slots=True)
class Condition:
    """One compiled CEL expression and the variable paths it reads."""

    source: str
    program: Any = field(repr=False, compare=False)
    paths: Mapping[str, tuple[tuple[str, ...], ...] | None] = field(repr=False, compare=False)
    reads: Reads | None = field(default=None, repr=False, compare=False)  # None: it reads a whole variable

    def evaluate(self, scope: Mapping[str, Any]) -> bool:
        """True when the expression holds; a missing field or a type mismatch counts as false."""
        reads = self.reads
        if reads is None:
            return self._execute(scope)
        values = reads.values(scope)
        if values is None:  # a value that is not plain: a list, a map, a number with a fraction, a time
            return self._execute(scope)
        known = reads.answers.get(values)
        if known is None:
            known = reads.compared(values)
            if known is None:
                known = self._execute(scope)
            reads.remember(values, known)
        return known

    def _execute(self, scope: Mapping[str, Any]) -> bool:
        variables = {name: project(scope.get(name), paths) for name, paths in self.paths.items()}
        try:
            return self.program.execute(variables) is True
        except (LookupError, ArithmeticError, TypeError, ValueError, RuntimeError):
            return False  # a missing key or index, a division by zero, an overflow: it does not hold

    def compute(self, scope: Mapping[str, Any]) -> Any:
        """The expression's value (for mappings such as a webhook's `map`); None where it cannot be had."""
        variables = {name: project(scope.get(name), paths) for name, paths in self.paths.items()}
        try:
            return self.program.execute(variables)
        except (LookupError, ArithmeticError, TypeError, ValueError, RuntimeError):
            return None


def compile_condition(source: str, *, variables: tuple[str, ...] = VARIABLES) -> Condition:
    """Compile `source`, or raise ConditionError saying where and what is wrong."""
    if not isinstance(source, str) or not source.strip():
        raise ConditionError("a condition must be a non-empty CEL expression, e.g. customer.orders_count == 1")
    try:
        program = cel.compile(source)
    except (ValueError, RuntimeError) as error:
        raise _syntax_error(source, str(error)) from None
    unknown = _unknown_names(source, set(program.variables()) - set(variables))
    if unknown:
        name, column = min(unknown, key=lambda found: found[1])
        raise ConditionError(
            f"unknown variable {name!r} at column {column}: conditions can read {', '.join(variables)}",
            column=column,
        )
    paths = referenced_paths(source, variables)
    _check_scores(source, paths.get("score", ()))
    return Condition(source=source, program=program, paths=paths, reads=Reads.of(source, paths))


def _check_scores(source: str, paths: tuple[tuple[str, ...], ...] | None) -> None:
    for path in paths or ():
        if path[0] not in SCORES:
            column = _blank_strings(source).find(f"score.{path[0]}") + 1
            message = f"unknown score {path[0]!r} at column {column}: the scores are {', '.join(SCORES)}"
            raise ConditionError(message, column=column)


def scores_read(condition: Condition) -> frozenset[str]:
    """The names of the scores a condition reads (`score.repeat_purchase`)."""
    paths = condition.paths.get("score", ())
    if paths is None:  # `score` read whole, as in `score["repeat_purchase"]`: any of them
        return frozenset(SCORES)
    return frozenset(path[0] for path in paths)


def _unknown_names(source: str, names: set[str]) -> list[tuple[str, int]]:
    """Each name with the column of its first use outside a macro that binds it (`exists(p, ...)`)."""
    blanked = _blank_strings(source)
    spans = [
        (match.group(1), match.start(), _closing(blanked, blanked.index("(", match.start())))
        for match in _MACRO_BINDING.finditer(blanked)
    ]
    found = []
    for name in names:
        uses = [use.start() for use in re.finditer(_NAME % re.escape(name), blanked)]
        free = [at for at in uses if not any(b == name and start <= at <= end for b, start, end in spans)]
        if free or not uses:
            found.append((name, free[0] + 1 if free else 1))
    return found


def _closing(text: str, opening: int) -> int:
    """The index of the parenthesis that closes the one at `opening` (the end of the text if none does)."""
    depth = 0
    for index in range(opening, len(text)):
        depth += {"(": 1, ")": -1}.get(text[index], 0)
        if depth == 0:
            return index
    return len(text)


def _syntax_error(source: str, text: str) -> ConditionError:
    match = _POSITION.search(text)
    if not match:
        return ConditionError(f"CEL syntax error in {source!r}: {text}")
    column = int(match.group(2))  # CEL counts columns from 1
    detail = match.group(3).replace("Syntax error: ", "")
    return ConditionError(f"CEL syntax error at column {column} of {source!r}: {detail}", column=column)


def _blank_strings(source: str) -> str:
    """The source with each string literal's text blanked, so names in strings are not read as code.

    Lengths are kept, so a column in the result is a column in the source.
    """
    return _STRING.sub(lambda match: '"' + " " * (len(match.group(0)) - 2) + '"', source)


def referenced_paths(source: str, roots: tuple[str, ...]) -> dict[str, tuple[tuple[str, ...], ...] | None]:
    """Map each root variable to the dotted field paths the expression reads (None: the whole value)."""
    tokens = _TOKEN.findall(_blank_strings(source))
    paths: dict[str, set[tuple[str, ...]] | None] = {}
    for index, token in enumerate(tokens):
        preceded_by_dot = index > 0 and tokens[index - 1] == "."
        if token not in roots or preceded_by_dot:
            continue
        chain, whole = _chain_after(tokens, index)
        if whole or not chain:
            paths[token] = None
        elif paths.get(token, set()) is not None:
            paths.setdefault(token, set()).add(chain)  # type: ignore[union-attr]
    return {root: (None if found is None else tuple(sorted(found))) for root, found in paths.items()}


def _chain_after(tokens: list[str], index: int) -> tuple[tuple[str, ...], bool]:
    """The identifiers that follow tokens[index] as `.a.b`, stopping before a method call."""
    chain: list[str] = []
    position = index + 1
    while position + 1 < len(tokens) and tokens[position] == "." and tokens[position + 1].isidentifier():
        if position + 2 < len(tokens) and tokens[position + 2] == "(":
            break
        chain.append(tokens[position + 1])
        position += 2
    whole = position < len(tokens) and tokens[position] == "[" and not chain
    return tuple(chain), whole


def project(value: Any, paths: tuple[tuple[str, ...], ...] | None) -> Any:
    """The part of `value` that `paths` reach; missing fields stay missing so `has()` still works."""
    if paths is None or not isinstance(value, Mapping):
        return value
    out: dict[str, Any] = {}
    for path in paths:
        _copy_path(value, out, path)
    return out


def _copy_path(source: Mapping[str, Any], target: dict[str, Any], path: tuple[str, ...]) -> None:
    head, rest = path[0], path[1:]
    if head not in source:
        return
    child = source[head]
    if not rest or not isinstance(child, Mapping):
        target[head] = child
        return
    if head in target and not isinstance(target[head], dict):
        return
    _copy_path(child, target.setdefault(head, {}), rest)


_MISSING = object()  # a field the scope lacks: not the same as a field holding null
_PLAIN = frozenset({str, int, bool, type(None)})  # values whose equality decides CEL's answer
# one side of an equality: a field path, or a "string" without escapes
_SIDE = r"([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+|\"[^\"\\]*\")"
_EQUALITY = re.compile(rf"^\s*{_SIDE}\s*(==|!=)\s*{_SIDE}\s*$")
MAX_ANSWERS = 4096  # per condition; past it, the answers start again from none


class Reads:
    """The field paths an expression reads when it reads no variable whole, and its answers so far.

    `values(scope)` is what the expression sees of a scope, as a key: for each path, how deep it reached
    in the scope's maps and the plain value there (with its type, so `true` and `1` differ). Two scopes
    with the same key give the CEL program the same variables (see `project`), so the same answer.
    """

    __slots__ = ("paths", "answers", "_equality")

    def __init__(self, paths: tuple[tuple[str, tuple[str, ...]], ...], equality: tuple | None) -> None:
        self.paths = paths
        self.answers: dict[tuple, bool] = {}
        self._equality = equality  # (index of the left path or a literal, "==" or "!=", the right one)

    @classmethod
    def of(cls, source: str, paths: Mapping[str, tuple[tuple[str, ...], ...] | None]) -> Reads | None:
        if any(found is None for found in paths.values()):
            return None
        flat = tuple((root, path) for root, found in paths.items() for path in found)
        return cls(flat, _equality(source, flat))

    def values(self, scope: Mapping[str, Any]) -> tuple | None:
        key = []
        for root, path in self.paths:
            depth, value = _reach(scope.get(root), path)
            kind = type(value)
            if kind not in _PLAIN and value is not _MISSING:
                return None
            key.append((depth, kind, value))
        return tuple(key)

    def compared(self, values: tuple) -> bool | None:
        """The answer of an equality between two strings, without CEL; None for anything else."""
        if self._equality is None:
            return None
        left, operator, right = self._equality
        left = values[left][2] if isinstance(left, int) else left
        right = values[right][2] if isinstance(right, int) else right
        if type(left) is not str or type(right) is not str:
            return None
        return (left == right) == (operator == "==")

    def remember(self, values: tuple, answer: bool) -> None:
        if len(self.answers) >= MAX_ANSWERS:
            self.answers.clear()
        self.answers[values] = answer


def _reach(value: Any, path: tuple[str, ...]) -> tuple[int, Any]:
    """How deep `path` reaches into `value` and what it finds there, as `project` copies it."""
    for depth, name in enumerate(path):
        if not isinstance(value, Mapping):
            return depth, value
        if name not in value:
            return depth, _MISSING
        value = value[name]
    return len(path), value


def _equality(source: str, paths: tuple[tuple[str, tuple[str, ...]], ...]) -> tuple | None:
    """(left, operator, right) for `a.b == c.d` or `a.b != "text"`: each side the index of its path in
    `paths`, or the literal string; None for any other expression."""
    match = _EQUALITY.match(source)
    if match is None:
        return None
    dotted = ["{}.{}".format(root, ".".join(path)) for root, path in paths]
    sides = []
    for side in (match.group(1), match.group(3)):
        if side.startswith('"'):
            sides.append(side[1:-1])
        elif side in dotted:
            sides.append(dotted.index(side))
        else:
            return None  # a path the reader did not list (it cannot happen, but CEL knows best)
    return sides[0], match.group(2), sides[1]
