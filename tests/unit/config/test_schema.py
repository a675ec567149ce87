"""What the typed config says about itself beyond its fields."""

from __future__ import annotations

from tests.support.proxy import CLIENT_KEY, make_config


def test_the_secrets_are_every_provider_and_client_key_once_longest_first() -> None:
    config = make_config(
        [("a", "http://127.0.0.1:9/v1"), ("b", "http://127.0.0.1:9/v1")],
        provider_extra={
            "b": {"apiKey": "short-key-1", "apiKeys": ["short-key-1", "k2-longer-one"]}
        },
        settings={"apiKeys": [CLIENT_KEY, "c"]},
    )
    provider_key = config.provider("a").api_key
    assert config.secrets() == (provider_key, CLIENT_KEY, "k2-longer-one", "short-key-1", "c")
