"""Text that every store can keep: valid Unicode (no lone surrogates) without NUL characters, which
PostgreSQL refuses in text and JSON columns. Checked where text comes in, so it is a clear error there."""

from __future__ import annotations

from typing import Any

Path = tuple[str | int, ...]


def unstorable_text(value: Any, path: Path = ()) -> tuple[Path, str] | None:
    """The first place in a JSON-like value (keys too) holding text no store can keep, and what is wrong
    with it; None when there is none."""
    if isinstance(value, str):
        problem = _text_problem(value)
        return None if problem is None else (path, problem)
    if isinstance(value, dict):
        for key, item in value.items():
            found = unstorable_text(key, path) or unstorable_text(item, (*path, str(key)))
            if found:
                return found
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = unstorable_text(item, (*path, index))
            if found:
                return found
    return None


def _text_problem(text: str) -> str | None:
    if "\x00" in text:
        return "contains a NUL character (\\u0000), which cannot be stored: remove it"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode (a lone surrogate, e.g. \\ud800): send UTF-8 text"
    return None
