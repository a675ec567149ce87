"""Which chain serves a request, from its `model`."""

from __future__ import annotations

from chain429.redaction import Redactor
from chain429.router.chain import ChainResolver
from tests.support.configs import build_config, entries


def config(strict: bool = False):
    return build_config(
        [
            {"id": "groq", "type": "groq", "apiKey": "x"},
            {"id": "or", "type": "openrouter", "apiKey": "y"},
        ],
        {
            "default": entries(("groq", "llama")),
            "fast": entries(("or", "m:free")),
            "groq/llama": entries(("or", "named")),
        },
        strictModels=strict,
    )


def test_chain_names_select_their_chain():
    resolver = ChainResolver(config())
    route = resolver.resolve("fast")
    assert route is not None and route.name == "fast"
    assert route.entries[0].model == "m:free"


def test_provider_slash_model_is_a_one_entry_chain():
    resolver = ChainResolver(config())
    route = resolver.resolve("or/meta-llama/llama-3.3-70b:free")
    assert route is not None
    assert route.name == "or/meta-llama/llama-3.3-70b:free"
    assert [(e.provider, e.model) for e in route.entries] == [
        ("or", "meta-llama/llama-3.3-70b:free")
    ]
    assert resolver.resolve("or/meta-llama/llama-3.3-70b:free") is route


def test_a_chain_name_wins_over_direct_addressing():
    route = ChainResolver(config()).resolve("groq/llama")
    assert route is not None and route.entries[0].model == "named"


def test_anything_else_is_the_default_chain():
    resolver = ChainResolver(config())
    for model in (None, "gpt-4o", "unknown/model", "groq/", "/llama", ""):
        route = resolver.resolve(model)
        assert route is not None and route.name == "default", model


def test_strict_models_refuses_unknown_names_but_not_chains_or_direct():
    resolver = ChainResolver(config(strict=True))
    assert resolver.resolve("gpt-4o") is None
    assert resolver.resolve("unknown/model") is None
    assert resolver.resolve("fast") is not None
    assert resolver.resolve("groq/other") is not None
    route = resolver.resolve(None)
    assert route is not None and route.name == "default"


def test_a_model_holding_a_key_addresses_nothing_directly():
    # The name of a direct address becomes the chain's name on the record, in the log line and
    # in X-429chain-Provider: a key pasted there would reach them all.
    key = "gsk_live_0123456789abcdefXYZ"
    secrets = build_config(
        [{"id": "groq", "type": "groq", "apiKey": key}], {"default": entries(("groq", "llama"))}
    )
    resolver = ChainResolver(secrets, Redactor(secrets.secrets()))
    for model in (f"groq/{key}", f"groq/{key[:12]}", "groq/sk-abcdefghijklmnopqrst"):
        route = resolver.resolve(model)
        assert route is not None and route.name == "default", model
    strict = ChainResolver(
        secrets.model_copy(
            update={"settings": secrets.settings.model_copy(update={"strict_models": True})}
        ),
        Redactor(secrets.secrets()),
    )
    assert strict.resolve(f"groq/{key}") is None
    assert resolver.resolve("groq/llama-3.1-8b-instant") is not None
