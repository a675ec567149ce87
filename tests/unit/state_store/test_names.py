"""The names the shared state is kept under in Redis: one hash tag per provider key, made
of nothing a key could be read back from, and safe whatever a provider id or model holds."""

from __future__ import annotations

from chain429.limits.metric import MetricKind, Scope, Window
from chain429.state_store.names import (
    concurrency_keys,
    key_fingerprint,
    model_name,
    parse_window_name,
    slot_keys,
    window_name,
)

KEY = "sk-live-0123456789abcdef"


def test_a_key_is_named_by_a_fingerprint_the_same_everywhere_and_per_provider() -> None:
    fingerprint = key_fingerprint("groq", KEY)
    assert fingerprint == key_fingerprint("groq", KEY)
    assert fingerprint != key_fingerprint("cerebras", KEY)
    assert len(fingerprint) == 16 and KEY[-4:] not in fingerprint


def test_the_keys_of_a_provider_key_share_one_hash_tag() -> None:
    keys = slot_keys("groq", "f00d")
    assert keys == ("c429:{groq:f00d}:state", "c429:{groq:f00d}:leases", "c429:{groq:f00d}:held")


def test_braces_separators_and_spaces_in_names_are_encoded() -> None:
    assert slot_keys("a{b}:c d", "all").state == "c429:{a%7Bb%7D%3Ac%20d:all}:state"
    assert model_name("meta/llama 3|x:free") == "meta%2Fllama%203%7Cx%3Afree"


def test_a_window_name_reads_back() -> None:
    name = window_name(Scope.FREE_MODELS, MetricKind.REQUESTS, Window.DAY)
    assert name == "free-models/requests/day"
    assert parse_window_name(name) == (Scope.FREE_MODELS, MetricKind.REQUESTS, Window.DAY)


def test_a_providers_concurrency_keys_share_a_hash_tag_of_the_provider_alone() -> None:
    keys = concurrency_keys("a{b}")
    assert keys == (
        "c429:{a%7Bb%7D:conc}:count",
        "c429:{a%7Bb%7D:conc}:leases",
        "c429:{a%7Bb%7D:conc}:held",
    )
