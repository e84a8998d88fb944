"""WhatsApp's rule for business messages: free text only within 24 hours of the customer's own last message.

Outside that window only a template that Meta approved may be sent. The choice is a pure function of
when the customer last wrote to us and the time now, so the simulator and production decide alike.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

WINDOW = timedelta(hours=24)

Form = Literal["template", "text"]


class WhatsAppWindowClosed(ValueError):
    """Only free text was written, and the customer has not messaged us in the last 24 hours."""


def is_window_open(last_inbound_at: datetime | None, now: datetime) -> bool:
    """Whether the customer's last inbound message, if any, was less than 24 hours before `now`."""
    return last_inbound_at is not None and now - last_inbound_at < WINDOW


def whatsapp_form(
    *, has_template: bool, has_text: bool, last_inbound_at: datetime | None, now: datetime | None
) -> Form:
    """Free text when there is some and the window is open; else the approved template; else an error.

    `now` may be None only when `last_inbound_at` is: with no inbound message there is no window to time.
    """
    if last_inbound_at is not None and now is None:
        raise ValueError("whatsapp_form needs `now` to tell whether the 24-hour window is still open")
    if has_text and last_inbound_at is not None and is_window_open(last_inbound_at, now):
        return "text"
    if has_template:
        return "template"
    last = f"last wrote at {last_inbound_at.isoformat()}" if last_inbound_at else "has never written to us"
    raise WhatsAppWindowClosed(
        f"WhatsApp free text can go only within 24 hours of the customer's own last message, and this "
        f"customer {last}: add an approved `template` (with `language` and `parameters`) to this variant"
    )
