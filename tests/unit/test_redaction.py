"""`Redactor`: whole keys, 8-character pieces of keys and token-shaped strings go."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chain429.redaction import REDACTED, Redactor

KEY = "sk-or-v1-0123456789abcdefABCDEF"
OTHER = "gsk_ZYXWVUTSRQPONMLKJIHGFE9876"


def test_whole_keys_and_pieces_of_eight_or_more_are_removed() -> None:
    redactor = Redactor([KEY, OTHER])
    assert redactor.redact(f"bad key {KEY}!") == f"bad key {REDACTED}!"
    assert redactor.redact(f"ends ...{KEY[-8:]}.") == f"ends ...{REDACTED}."
    assert redactor.redact(f"middle {KEY[7:19]} x") == f"middle {REDACTED} x"
    assert redactor.redact(f"{KEY}{OTHER}") == REDACTED
    assert redactor.redact(f"label …{KEY[-4:]}") == f"label …{KEY[-4:]}"


def test_bearer_tokens_and_key_shaped_strings_go_even_when_unknown() -> None:
    redactor = Redactor()
    assert redactor.redact("Authorization: Bearer abc.def") == f"Authorization: Bearer {REDACTED}"
    assert redactor.redact("key gsk_abcdefghijklmnop1234 here") == f"key {REDACTED} here"
    assert redactor.redact("a task-runner and sk-short") == "a task-runner and sk-short"


def test_short_secrets_whole_tiny_ones_ignored() -> None:
    redactor = Redactor(["abc123", "a"])
    assert redactor.redact("token abc123 and a") == f"token {REDACTED} and a"
    assert Redactor().redact("nothing") == "nothing"


def test_pieces_shorter_than_eight_stay() -> None:
    text = f"model x, key {KEY[-7:]}"
    assert Redactor([KEY]).redact(text) == text


def test_nested_values_and_sensitive_field_names() -> None:
    redactor = Redactor([KEY])
    value = {"Authorization": "anything", "items": [f"k={KEY}", ("t", 3)], "n": 1}
    assert redactor.redact_value(value) == {
        "Authorization": REDACTED,
        "items": [f"k={REDACTED}", ["t", 3]],
        "n": 1,
    }


@given(
    before=st.text(max_size=40),
    after=st.text(max_size=40),
    start=st.integers(0, len(KEY) - 8),
    length=st.integers(8, len(KEY)),
)
def test_no_eight_character_piece_of_a_key_survives(
    before: str, after: str, start: int, length: int
) -> None:
    out = Redactor([KEY, OTHER]).redact(before + KEY[start : start + length] + after)
    assert not any(KEY[i : i + 8] in out for i in range(len(KEY) - 7))


@given(st.text(min_size=8, max_size=40), st.text(max_size=30), st.text(max_size=30))
def test_any_key_never_survives(secret: str, before: str, after: str) -> None:
    assert secret not in Redactor([secret]).redact(before + secret + after)


@given(st.text(alphabet="abcdefghij klmnop-_./:", max_size=200))
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert Redactor([KEY, OTHER]).redact(text) == text


def test_every_copy_of_a_short_secret_is_removed() -> None:
    text = "abc123 then abc123, and abc123abc123"
    expected = f"{REDACTED} then {REDACTED}, and {REDACTED}"
    assert Redactor(["abc123"]).redact(text) == expected


def test_every_copy_of_a_long_key_is_removed() -> None:
    assert Redactor([KEY]).redact(f"{KEY} {KEY}") == f"{REDACTED} {REDACTED}"


def test_a_secret_of_four_characters_is_removed_and_one_of_three_is_not() -> None:
    redacted = Redactor(["ab12", "xyz"]).redact("pin ab12, code xyz")
    assert redacted == f"pin {REDACTED}, code xyz"


def test_overlapping_copies_of_a_short_secret_are_removed_whole() -> None:
    assert Redactor(["aaaa"]).redact("aaaaa") == REDACTED


def test_a_piece_of_a_key_off_the_four_character_grid_is_found() -> None:
    for piece in (KEY[-8:], KEY[3:11]):
        for pad in range(4):
            assert Redactor([KEY]).redact("x" * pad + piece) == "x" * pad + REDACTED


@pytest.mark.parametrize("word", ["Bearer", "BEARER", "bearer"])
def test_a_bearer_token_goes_and_the_word_stays_in_any_case(word: str) -> None:
    text = f"Authorization: {word} abc.def-123456, then"
    assert Redactor().redact(text) == f"Authorization: {word} {REDACTED}, then"


def test_a_long_text_is_redacted_too_and_a_short_one_alike_each_time() -> None:
    redactor = Redactor([KEY])
    assert redactor.redact("x" * 300 + KEY) == "x" * 300 + REDACTED
    assert redactor.redact(f"short {KEY}") == redactor.redact(f"short {KEY}") == f"short {REDACTED}"


def test_field_names_are_matched_in_any_case_and_only_when_they_are_strings() -> None:
    value = {"API_KEY": 12, 7: KEY, "plain": None}
    assert Redactor([KEY]).redact_value(value) == {"API_KEY": REDACTED, 7: REDACTED, "plain": None}
