from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chain429.redaction import REDACTED, Redactor, redact

KEY = "sk-or-v1-0123456789abcdefABCDEF"


def test_whole_key_is_removed() -> None:
    assert redact(f"invalid key {KEY}!", [KEY]) == f"invalid key {REDACTED}!"


def test_last_eight_and_any_eight_character_piece_are_removed() -> None:
    assert KEY[-8:] not in redact(f"key ending ...{KEY[-8:]}", [KEY])
    assert redact(f"key {KEY[5:17]}xyz", [KEY]) == f"key {REDACTED}xyz"


def test_shorter_pieces_and_other_text_stay() -> None:
    text = f"model x, key {KEY[-7:]}"
    assert redact(text, [KEY]) == text


def test_short_secrets_are_removed_whole_tiny_ones_ignored() -> None:
    assert redact("token abc123 used", ["abc123"]) == f"token {REDACTED} used"
    assert redact("a b c", ["a"]) == "a b c"
    assert redact("nothing", []) == "nothing"


def test_several_secrets() -> None:
    other = "gsk_ZYXWVUTSRQPONMLK"
    text = f"{KEY} and {other}"
    assert redact(text, [KEY, other]) == f"{REDACTED} and {REDACTED}"


@given(st.text(min_size=8, max_size=40), st.text(max_size=30), st.text(max_size=30))
def test_a_key_never_survives(secret: str, before: str, after: str) -> None:
    assert secret not in redact(before + secret + after, [secret])


def test_every_copy_of_a_short_secret_is_removed():
    text = "abc123 then abc123, and abc123abc123"
    assert redact(text, ["abc123"]) == f"{REDACTED} then {REDACTED}, and {REDACTED}"


def test_every_copy_of_a_long_key_is_removed():
    assert redact(f"{KEY} {KEY}", [KEY]) == f"{REDACTED} {REDACTED}"


def test_a_secret_of_four_characters_is_removed_and_one_of_three_is_not():
    assert redact("pin ab12, code xyz", ["ab12", "xyz"]) == f"pin {REDACTED}, code xyz"


def test_overlapping_copies_of_a_short_secret_are_removed_whole():
    assert redact("aaaaa", ["aaaa"]) == REDACTED


def test_a_piece_of_a_key_off_the_four_character_grid_is_found():
    for piece in (KEY[-8:], KEY[3:11]):
        for pad in range(4):
            assert redact("x" * pad + piece, [KEY]) == "x" * pad + REDACTED, (piece, pad)


@pytest.mark.parametrize("word", ["Bearer", "BEARER", "bearer"])
def test_a_bearer_token_is_removed_and_the_word_stays(word):
    text = f"Authorization: {word} abc.def-123456, then"
    assert redact(text, []) == f"Authorization: {word} {REDACTED}, then"


def test_strings_shaped_like_provider_keys_are_removed_unconfigured():
    assert redact("used gsk_abcdefghijklmnop here", []) == f"used {REDACTED} here"
    assert redact("nothing key-shaped here", []) == "nothing key-shaped here"


def test_a_long_text_is_redacted_too_and_the_same_text_twice_alike():
    redactor = Redactor([KEY])
    text = "x" * 300 + KEY
    assert redactor.redact(text) == "x" * 300 + REDACTED
    assert redactor.redact(f"short {KEY}") == redactor.redact(f"short {KEY}") == f"short {REDACTED}"


def test_values_are_redacted_inside_dicts_lists_and_tuples_and_sensitive_keys_blanked():
    redactor = Redactor([KEY])
    value = {
        "Authorization": "anything",
        "API_KEY": 12,
        "nested": [f"a {KEY}", (KEY, 3)],
        7: KEY,
        "plain": None,
    }
    assert redactor.redact_value(value) == {
        "Authorization": REDACTED,
        "API_KEY": REDACTED,
        "nested": [f"a {REDACTED}", [REDACTED, 3]],
        7: REDACTED,
        "plain": None,
    }
