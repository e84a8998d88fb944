"""The small server-rendered pages a recipient sees: confirm an unsubscribe, the result, their preferences.

Plain HTML with every value escaped; no scripts, no fonts or styles from elsewhere. The link's token is in
the URL, so pages send no Referer and are not cached or framed.
"""

from __future__ import annotations

from html import escape

from onboardflow.compliance.consent import Preferences

HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'",
}
CHANNEL_LABELS = {
    "email": "email", "sms": "text messages (SMS)", "whatsapp": "WhatsApp", "push": "push notifications"
}
TOPIC_LABELS = {
    "education": "Tips and how-to guides",
    "engagement": "Reviews and feedback requests",
    "promotion": "Offers and promotions",
}
STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#222;"
    "line-height:1.5}button{font-size:1rem;padding:.5rem 1.2rem;margin:.3rem .3rem 0 0;cursor:pointer}"
    "fieldset{border:1px solid #ccc;margin:1rem 0}label{display:block;margin:.3rem 0}"
    ".note{background:#eef7ee;padding:.5rem 1rem}.error{background:#fbeaea;padding:.5rem 1rem}"
)


def channel_label(channel: str) -> str:
    return CHANNEL_LABELS.get(channel, channel)


def topic_label(topic: str | None) -> str:
    return "all marketing" if topic is None else TOPIC_LABELS.get(topic, topic)


def layout(title: str, body: str) -> str:
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head>\n<body>\n{body}\n</body></html>\n"
    )


def confirm_unsubscribe(
    *, sender: str, channel: str, topic: str | None, action: str, preferences: str
) -> str:
    """The GET page: a button that POSTs the same one-click body a mail client would send."""
    what = f"{topic_label(topic)} by {channel_label(channel)}"
    body = (
        f"<h1>Unsubscribe</h1>\n<p>Stop receiving {escape(what)} from {escape(sender)}?</p>\n"
        f'<form method="post" action="{escape(action)}">'
        '<input type="hidden" name="List-Unsubscribe" value="One-Click">'
        '<input type="hidden" name="via" value="page">'
        "<button type=\"submit\">Unsubscribe</button></form>\n"
        f'<p>Or <a href="{escape(preferences)}">choose which messages you get</a>.</p>'
    )
    return layout("Unsubscribe", body)


def unsubscribed(*, sender: str, channel: str, topic: str | None, already: bool, preferences: str) -> str:
    what = f"{topic_label(topic)} by {channel_label(channel)}"
    said = "You were already unsubscribed from" if already else "You are unsubscribed from"
    body = (
        f"<h1>Unsubscribed</h1>\n<p class=\"note\">{said} {escape(what)} from {escape(sender)}.</p>\n"
        "<p>Messages about your orders (receipts, delivery updates) still reach you.</p>\n"
        f'<p><a href="{escape(preferences)}">Change your preferences</a></p>'
    )
    return layout("Unsubscribed", body)


def preferences_page(*, sender: str, preferences: Preferences, action: str, saved: int | None = None) -> str:
    """One fieldset per channel, one checkbox per topic; `saved` is how many choices the last POST changed."""
    fieldsets = "\n".join(_channel_fieldset(preferences, channel) for channel in preferences.channels)
    note = "" if saved is None else f'<p class="note">Saved: {saved} change{"" if saved == 1 else "s"}.</p>\n'
    body = (
        f"<h1>Your preferences</h1>\n{note}<p>Choose what {escape(sender)} may send you. Messages about your "
        "orders (receipts, delivery updates) always reach you.</p>\n"
        f'<form method="post" action="{escape(action)}">\n{fieldsets}\n'
        '<button type="submit" name="action" value="save">Save</button>'
        '<button type="submit" name="action" value="unsubscribe-all">Unsubscribe from all</button></form>'
    )
    return layout("Your preferences", body)


def _channel_fieldset(preferences: Preferences, channel: str) -> str:
    boxes = "".join(
        f'<label><input type="checkbox" name="subscribe" value="{escape(f"{channel}:{topic}")}"'
        f'{" checked" if (channel, topic) in preferences.subscribed else ""}> '
        f"{escape(topic_label(topic))}</label>"
        for topic in preferences.topics
    )
    return f"<fieldset><legend>By {escape(channel_label(channel))}</legend>{boxes}</fieldset>"


def problem_page(title: str, detail: str) -> str:
    return layout(title, f"<h1>{escape(title)}</h1>\n<p class=\"error\">{escape(detail)}</p>")
