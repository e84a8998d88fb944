"""SMS segments as carriers count them: GSM-7 160/153 with two-septet extension characters, UCS-2 70/67."""

from __future__ import annotations

import pytest

from onboardflow.messages.sms import is_gsm7, measure_sms, segment_warning, sms_content

EMOJI = "😀"  # outside the Basic Multilingual Plane: two UTF-16 code units


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("", 0),
        ("a", 1),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
    ],
)
def test_gsm7_segments_are_160_alone_and_153_in_parts(text, segments):
    length = measure_sms(text)

    assert (length.encoding, length.segments) == ("GSM-7", segments)


def test_extension_characters_count_twice():
    assert measure_sms("€" * 80).units == 160
    assert measure_sms("€" * 80).segments == 1
    assert measure_sms("€" * 81).segments == 2
    assert measure_sms("a" * 159 + "{").segments == 2  # 161 septets


@pytest.mark.parametrize("char", list("^{}\\[]~|€\f"))
def test_every_extension_character_is_gsm7_and_two_septets(char):
    length = measure_sms(char)

    assert (length.encoding, length.units) == ("GSM-7", 2)


def test_an_escape_pair_is_never_split_between_two_parts():
    # 306 septets would be two parts of 153, but the € cannot straddle them: part 1 takes 152 septets
    text = "a" * 152 + "€" + "a" * 152

    assert measure_sms(text).units == 306
    assert measure_sms(text).segments == 3


def test_gsm7_covers_greek_capitals_and_some_accents_but_not_every_one():
    assert is_gsm7("Δ Ω é è Ç ñ ß £ ¥ § ¿ ¡ @")
    assert not is_gsm7("ç")  # only the capital is in the alphabet
    assert not is_gsm7("Bonjour, c’est prêt")  # the curly apostrophe and ê


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("ж" * 70, 1),
        ("ж" * 71, 2),
        ("ж" * 134, 2),
        ("ж" * 135, 3),
    ],
)
def test_ucs2_segments_are_70_alone_and_67_in_parts(text, segments):
    length = measure_sms(text)

    assert (length.encoding, length.segments) == ("UCS-2", segments)


def test_one_emoji_makes_the_whole_text_ucs2_and_counts_twice():
    assert measure_sms("a" * 68 + EMOJI).units == 70
    assert measure_sms("a" * 68 + EMOJI).segments == 1
    assert measure_sms("a" * 69 + EMOJI).segments == 2
    assert measure_sms("a" * 69 + EMOJI).non_gsm == (EMOJI,)


def test_a_surrogate_pair_is_never_split_between_two_parts():
    text = "a" * 66 + EMOJI + "a" * 66  # 134 units: two parts of 67, if the emoji could be cut

    assert measure_sms(text).segments == 3


def test_sms_content_carries_encoding_and_segments():
    content = sms_content("Ça arrive " + EMOJI)

    assert (content.encoding, content.segments) == ("UCS-2", 1)


def test_no_warning_within_the_limit():
    assert segment_warning("a" * 459, limit=3) is None  # 3 × 153


def test_the_warning_counts_segments_and_names_what_forced_ucs2():
    warning = segment_warning("Your order’s here " + "a" * 200, limit=3)

    assert warning.startswith("4 SMS segments (218 UCS-2 characters), past the limit of 3")
    assert "because of '’'" in warning


def test_a_measure_with_empty_variables_says_at_least():
    warning = segment_warning("a" * 200, limit=1, at_least=True)

    assert warning.startswith("at least 2 SMS segments (200 GSM-7 characters), past the limit of 1")
    assert "UCS-2" not in warning
