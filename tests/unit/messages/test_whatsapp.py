"""The WhatsApp 24-hour window: free text after the customer's own message, else the approved template."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from onboardflow.messages.whatsapp import WhatsAppWindowClosed, is_window_open, whatsapp_form

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def test_the_window_is_open_for_24_hours_after_the_customers_message():
    assert is_window_open(NOW - timedelta(hours=23, minutes=59), NOW)
    assert not is_window_open(NOW - timedelta(hours=24), NOW)
    assert not is_window_open(None, NOW)


def test_free_text_goes_inside_the_window_when_there_is_some():
    form = whatsapp_form(has_template=True, has_text=True, last_inbound_at=NOW - timedelta(hours=2), now=NOW)

    assert form == "text"


def test_the_template_goes_outside_the_window():
    form = whatsapp_form(has_template=True, has_text=True, last_inbound_at=NOW - timedelta(hours=30), now=NOW)

    assert form == "template"


def test_the_template_goes_when_the_customer_never_wrote():
    assert whatsapp_form(has_template=True, has_text=True, last_inbound_at=None, now=None) == "template"


def test_the_template_goes_inside_the_window_when_there_is_no_free_text():
    form = whatsapp_form(has_template=True, has_text=False, last_inbound_at=NOW - timedelta(hours=1), now=NOW)

    assert form == "template"


def test_only_free_text_outside_the_window_is_a_clear_error():
    with pytest.raises(WhatsAppWindowClosed) as closed:
        whatsapp_form(has_template=False, has_text=True, last_inbound_at=NOW - timedelta(days=2), now=NOW)

    assert "within 24 hours of the customer's own last message" in str(closed.value)
    assert "last wrote at 2026-02-28T12:00:00+00:00" in str(closed.value)
    assert "add an approved `template`" in str(closed.value)


def test_only_free_text_for_a_customer_who_never_wrote_says_so():
    with pytest.raises(WhatsAppWindowClosed, match="has never written to us"):
        whatsapp_form(has_template=False, has_text=True, last_inbound_at=None, now=NOW)


def test_an_inbound_time_without_now_is_a_programming_error():
    with pytest.raises(ValueError, match="needs `now`"):
        whatsapp_form(has_template=True, has_text=True, last_inbound_at=NOW, now=None)
