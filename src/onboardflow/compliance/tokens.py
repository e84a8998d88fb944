"""Signed unsubscribe tokens: which customer, channel and (optionally) topic a link is for, and proof that we
made it. An HMAC-SHA256 over the claims with a secret from settings; no expiry, as mail clients and RFC 8058
expect an unsubscribe link to keep working.

A token is `<claims>.<signature>`, both base64url without padding. The claims are readable by whoever holds
the link (the recipient): they name ids, never an address.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass

from onboardflow.core.consent import MARKETING_TOPICS
from onboardflow.settings import MIN_SECRET_LENGTH

VERSION = 1
DOMAIN = b"onboardflow/unsubscribe/v1\x00"  # so the secret's signature means nothing elsewhere
SIGNATURE_BYTES = 16  # 128 bits: forging one is out of reach, and the link stays short


class TokenError(ValueError):
    """A token that is not ours, was changed, or was cut short; the message can be shown to the recipient."""


WHAT_TO_DO = "Use the link in the latest message you received from us, or reply to it to be unsubscribed."
INVALID = "This link is not valid: it was changed, or it was made by another sender. " + WHAT_TO_DO
INCOMPLETE = "This link is incomplete: it may have been cut short when copied. " + WHAT_TO_DO


@dataclass(frozen=True, slots=True)
class UnsubscribeToken:
    customer_id: str
    channel: str
    topic: str | None = None  # one marketing topic (education, engagement, promotion); None: all marketing


def sign(claims: UnsubscribeToken, secret: str) -> str:
    """The token for these claims."""
    _check_secret(secret)
    if claims.topic is not None and claims.topic not in MARKETING_TOPICS:
        raise ValueError(f"topic must be one of {', '.join(MARKETING_TOPICS)} or None; got {claims.topic!r}")
    document = [VERSION, claims.customer_id, claims.channel, claims.topic]
    body = _encode(json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode())
    return f"{body}.{_encode(_signature(body, secret))}"


def verify(token: str, secret: str) -> UnsubscribeToken:
    """The claims of a token we signed; raises TokenError for anything else."""
    _check_secret(secret)
    body, dot, signature = token.strip().partition(".")
    if not dot or not body or not signature:
        raise TokenError(INCOMPLETE)
    try:
        given = _decode(signature)
    except ValueError:
        raise TokenError(INVALID) from None
    if not hmac.compare_digest(given, _signature(body, secret)):
        raise TokenError(INVALID)
    try:
        version, customer_id, channel, topic = json.loads(_decode(body))
    except (TypeError, ValueError):  # signed by us yet unreadable: only a changed format could do that
        raise TokenError(INVALID) from None
    if version != VERSION or not isinstance(customer_id, str) or not isinstance(channel, str):
        raise TokenError(INVALID)
    return UnsubscribeToken(customer_id, channel, topic)


def unsubscribe_url(
    customer_id: str, channel: str, base_url: str, secret: str, *, topic: str | None = None
) -> str:
    """The List-Unsubscribe link of a message: an RFC 8058 one-click POST target, and a page on GET."""
    token = sign(UnsubscribeToken(customer_id, channel, topic), secret)
    return f"{base_url.rstrip('/')}/unsubscribe/{token}"


def preferences_url(customer_id: str, channel: str, base_url: str, secret: str) -> str:
    """The link to the customer's preference page (per topic and channel)."""
    return f"{base_url.rstrip('/')}/preferences/{sign(UnsubscribeToken(customer_id, channel), secret)}"


def _signature(body: str, secret: str) -> bytes:
    return hmac.new(secret.encode(), DOMAIN + body.encode(), hashlib.sha256).digest()[:SIGNATURE_BYTES]


def _check_secret(secret: str) -> None:
    if not isinstance(secret, str) or len(secret) < MIN_SECRET_LENGTH:
        raise ValueError(
            f"the unsubscribe secret must be at least {MIN_SECRET_LENGTH} characters: "
            "set ONBOARDFLOW_UNSUBSCRIBE_SECRET"
        )


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as error:
        raise ValueError(str(error)) from None
