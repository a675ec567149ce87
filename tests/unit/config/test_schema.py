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


def test_admin_keys_are_secrets_too() -> None:
    config = make_config(
        [("a", "http://127.0.0.1:9/v1")], settings={"adminKeys": ["adm-an-admin-key-0001"]}
    )
    assert "adm-an-admin-key-0001" in config.secrets()


def test_admin_keys_and_cors_origins_default_to_none() -> None:
    settings = make_config([("a", "http://127.0.0.1:9/v1")]).settings
    assert settings.admin_keys == () and settings.cors_origins == ()
