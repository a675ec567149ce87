"""The messages of the wake channel, as a replica reads them."""

from __future__ import annotations

import pytest

from chain429.state_store.names import key_fingerprint, model_name, slot_keys
from chain429.state_store.wakes import parse_wake


def message(provider_id: str, model: str, wide: str = "0") -> bytes:
    """What the scripts publish for a slot of `provider_id`: its hash tag, model and flag."""
    tag = slot_keys(provider_id, key_fingerprint(provider_id, "sk-key")).state.split("{")[1]
    return f"{tag.split('}')[0]} {model_name(model)} {wide}".encode()


def test_a_message_names_the_provider_and_model_it_woke() -> None:
    assert parse_wake(message("groq", "llama-3.1-8b")) == ("groq", "llama-3.1-8b", False)
    assert parse_wake(message("groq", "m", "1")) == ("groq", "m", True)


def test_ids_and_models_with_separators_come_back_whole() -> None:
    odd = "my provider:{eu}"
    assert parse_wake(message(odd, "org/model:free 2")) == (odd, "org/model:free 2", False)


@pytest.mark.parametrize(
    "data", [b"", b"one two", b"tag m 0", b"p:f m 2", b"p:f m 0 extra", b"\xff:f m 0"]
)
def test_another_shape_is_ignored(data: bytes) -> None:
    assert parse_wake(data) is None
