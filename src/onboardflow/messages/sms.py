"""SMS length as carriers bill it: GSM-7 or UCS-2 encoding, and how many segments a text is sent as.

One character outside the GSM-7 alphabet (a curly quote, an emoji) switches the whole text to UCS-2,
which cuts a segment from 160 to 70 characters: the warnings name the characters that did it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from onboardflow.messages.content import SmsContent

# GSM 03.38 default alphabet (without ESC, which only introduces the extension table).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# The extension table: each is sent as ESC + the character, two septets.
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

# Septets (GSM-7) or UTF-16 code units (UCS-2): in a one-part message, and in each part of a longer one,
# where a header that joins the parts takes the rest.
SINGLE = {"GSM-7": 160, "UCS-2": 70}
PART = {"GSM-7": 153, "UCS-2": 67}
DEFAULT_SEGMENT_LIMIT = 3

Encoding = Literal["GSM-7", "UCS-2"]


@dataclass(frozen=True, slots=True)
class SmsLength:
    encoding: Encoding
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int
    non_gsm: tuple[str, ...] = ()  # the characters that forced UCS-2, in order of first appearance


def is_gsm7(text: str) -> bool:
    return all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in text)


def measure_sms(text: str) -> SmsLength:
    """Encoding, length and segment count of `text`; an empty text is zero segments."""
    if is_gsm7(text):
        encoding: Encoding = "GSM-7"
        widths = [2 if char in GSM7_EXTENSION else 1 for char in text]
        non_gsm: tuple[str, ...] = ()
    else:
        encoding = "UCS-2"
        widths = [2 if ord(char) > 0xFFFF else 1 for char in text]  # outside the BMP: a surrogate pair
        non_gsm = tuple(dict.fromkeys(c for c in text if c not in GSM7_BASIC and c not in GSM7_EXTENSION))
    return SmsLength(encoding, sum(widths), _segments(widths, encoding), non_gsm)


def _segments(widths: list[int], encoding: Encoding) -> int:
    """Parts as a phone splits them: an escape pair or a surrogate pair is never cut between two parts."""
    total = sum(widths)
    if total == 0:
        return 0
    if total <= SINGLE[encoding]:
        return 1
    size, parts, used = PART[encoding], 1, 0
    for width in widths:
        if used + width > size:
            parts, used = parts + 1, 0
        used += width
    return parts


def sms_content(text: str) -> SmsContent:
    length = measure_sms(text)
    return SmsContent(text=text, encoding=length.encoding, segments=length.segments)


def segment_warning(text: str, *, limit: int = DEFAULT_SEGMENT_LIMIT, at_least: bool = False) -> str | None:
    """A sentence for the author when `text` is sent as more than `limit` segments, else None.

    `at_least`: the text was measured with its variables empty, so the real message is longer still.
    """
    length = measure_sms(text)
    if length.segments <= limit:
        return None
    count = f"at least {length.segments}" if at_least else str(length.segments)
    size = f"{length.units} {length.encoding} characters"
    message = f"{count} SMS segments ({size}), past the limit of {limit}: shorten the text"
    if length.non_gsm:
        shown = ", ".join(repr(char) for char in length.non_gsm[:5])
        message += f"; it is sent as UCS-2 (70 characters a segment, not 160) because of {shown}"
    return message
