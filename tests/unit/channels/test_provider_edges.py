"""Small rules at the provider edge: Retry-After, URLs fit to show, Message-IDs from idempotency keys."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from onboardflow.channels.http import retry_after_seconds, shown_url
from onboardflow.channels.smtp import message_id

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("7", 7.0),
        (" 2.5 ", 2.5),
        ("-3", 0.0),
        ("Mon, 02 Mar 2026 09:31:30 GMT", 90.0),
        ("Mon, 02 Mar 2026 09:00:00 GMT", 0.0),  # a date already past: retry now
        (None, None),
        ("", None),
        ("soon", None),
        ("inf", None),
        ("nan", None),
    ],
)
def test_retry_after_is_seconds_or_a_date_counted_from_now(value, seconds):
    assert retry_after_seconds(value, now=NOW) == seconds


def test_a_url_is_shown_without_credentials_query_or_fragment():
    assert shown_url("https://user:pw@hooks.example:8443/in/x?token=k#f") == "https://hooks.example:8443/in/x"


def test_a_message_id_keeps_a_plain_key_and_hashes_an_odd_one_stably():
    assert message_id("msg_en1.3", "shop.example") == "<msg_en1.3@shop.example>"
    odd = message_id("a b@c", "shop.example")
    assert odd == message_id("a b@c", "shop.example") != message_id("a b@d", "shop.example")
    assert odd.endswith("@shop.example>") and len(odd) == len("<@shop.example>") + 32
    assert message_id("..dots", "d") != "<..dots@d>"
