from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from chain429.redaction import REDACTED, redact

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
