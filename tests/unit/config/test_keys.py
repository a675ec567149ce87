"""Key labels: the name a person sees for a key, and the shape no key has."""

from __future__ import annotations

import pytest

from chain429.config.keys import header_label, is_label, key_label


def test_a_key_is_named_by_its_last_four_characters_or_its_position_when_short() -> None:
    assert key_label("gsk_abcdefgh1234", 0) == "…1234"
    assert key_label("short", 2) == "key#3"


@pytest.mark.parametrize("key", ["gsk_abcdefgh1234", "short", "x"])
def test_every_label_has_the_shape_of_a_label(key: str) -> None:
    assert is_label(key_label(key, 0)) and not is_label(key)


@pytest.mark.parametrize("text", ["…123", "…12345", "key#0", "key#", "key#1x", "${KEY}"])
def test_other_text_is_not_a_label(text: str) -> None:
    assert not is_label(text)


def test_a_header_value_is_named_by_its_last_four_characters_or_nothing_when_short() -> None:
    assert header_label("azure-secret-1234") == "…1234"
    assert header_label("demo") == header_label("1234567") == "…"
    assert is_label(header_label("azure-secret-1234")) and is_label(header_label("demo"))
