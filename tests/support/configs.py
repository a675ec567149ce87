"""Configs written in tests: the one document skeleton they share, and the variables the
packaged example config reads. `proxy.make_config` builds on it for configs over upstreams."""

from __future__ import annotations

from typing import Any

from chain429.config.load import validate_config
from chain429.config.schema import Config, ProviderConfig

#: The environment variables the packaged example config reads, with made-up keys.
EXAMPLE_KEYS = {
    "CHAIN429_API_KEY": "client-key-1234",
    "GROQ_API_KEY": "gsk_secret_groq_key_123456",
    "CEREBRAS_API_KEY": "csk-secret-cerebras-123456",
    "OPENROUTER_API_KEY": "sk-or-secret-openrouter-1234",
}


def build_config(
    providers: list[dict[str, Any]], chains: dict[str, list[dict[str, Any]]], **settings: Any
) -> Config:
    """A validated config of `providers` and `chains` (by name, the first one the default),
    with one client key and `settings` on top."""
    return validate_config(
        {
            "version": 1,
            "settings": {"apiKeys": ["k"], "defaultChain": next(iter(chains)), **settings},
            "providers": providers,
            "chains": [{"name": name, "entries": entries} for name, entries in chains.items()],
        }
    )


def entries(*pairs: tuple[str, str]) -> list[dict[str, Any]]:
    """Chain entries from (provider, model) pairs."""
    return [{"provider": provider, "model": model} for provider, model in pairs]


def key_provider(*keys: str, concurrent: int | None = None) -> ProviderConfig:
    """Provider `p` (groq) with `keys`, and a provider-wide `concurrentRequests` if given."""
    data: dict[str, Any] = {"id": "p", "type": "groq", "apiKeys": list(keys)}
    if concurrent is not None:
        data["rateLimits"] = {"concurrentRequests": concurrent}
    return ProviderConfig.model_validate(data)
