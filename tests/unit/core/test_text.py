"""Text a store can keep: found anywhere in a JSON-like value, keys included, with where it is."""

from __future__ import annotations

from onboardflow.core.text import unstorable_text


def test_plain_text_numbers_and_nesting_are_fine():
    assert unstorable_text({"a": ["x", 1, 2.5, None, {"b": "ünïcode ✓"}]}) is None


def test_a_nul_character_is_found_with_its_path():
    path, message = unstorable_text({"steps": [{"id": "a"}, {"send": {"template": "t\x00"}}]})

    assert path == ("steps", 1, "send", "template")
    assert "NUL character" in message


def test_a_lone_surrogate_and_a_bad_key_are_found():
    assert unstorable_text(["ok", "\ud800"])[0] == (1,)
    path, message = unstorable_text({"evidence": {"ip\x00": "1"}})
    assert path == ("evidence",) and "NUL" in message
