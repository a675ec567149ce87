"""What the typed config says about itself beyond its fields."""

from __future__ import annotations

import pytest

from chain429.config.load import validate_config
from chain429.errors import ConfigError
from chain429.redaction import Redactor
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


def test_the_values_of_credential_headers_are_secrets_and_other_headers_are_not() -> None:
    headers = {
        "api-key": "azure-header-key-0001",
        "X-Auth-Token": "tok-0002",
        "HTTP-Referer": "https://myapp.example",
        "X-Title": "My app title",
    }
    config = make_config(
        [("a", "http://127.0.0.1:9/v1")], provider_extra={"a": {"headers": headers}}
    )
    assert {"azure-header-key-0001", "tok-0002"} <= set(config.secrets())
    said = Redactor(config.secrets()).redact("upstream says: bad api-key azure-header-key-0001")
    assert said == "upstream says: bad api-key [redacted]"
    # An attribution URL is no secret: redacting it would blank `https://` in every log line.
    assert not {"https://myapp.example", "My app title"} & set(config.secrets())
    said = Redactor(config.secrets()).redact("cannot connect to https://api.example/v1")
    assert said == "cannot connect to https://api.example/v1"


def test_admin_keys_and_cors_origins_default_to_none() -> None:
    settings = make_config([("a", "http://127.0.0.1:9/v1")]).settings
    assert settings.admin_keys == () and settings.cors_origins == ()


# Provider headers are what HTTP can carry: a header the proxy could not send is refused when
# the config is read (or changed through the API), never at the first request.


def with_headers(headers: dict[str, str]) -> dict:
    config = make_config([("a", "http://127.0.0.1:9/v1")])
    data = config.model_dump(mode="json", by_alias=True, exclude_none=True)
    data["providers"][0]["headers"] = headers
    return data


def test_ordinary_headers_are_accepted() -> None:
    config = validate_config(with_headers({"api-key": "secret value", "X-Title": "é ok\tx"}))
    assert config.providers[0].headers["api-key"] == "secret value"


@pytest.mark.parametrize(
    ("headers", "problem"),
    [
        ({"bad name": "v"}, "'bad name' is not a valid HTTP header name"),
        ({"": "v"}, "is not a valid HTTP header name"),
        ({"X-Key": "sk-secret\r\nInjected: 1"}, "the value of header 'X-Key' holds a control"),
        ({"X-Key": "nul\x00"}, "holds a control character"),
    ],
)
def test_headers_http_cannot_carry_are_refused_without_quoting_the_value(headers, problem) -> None:
    with pytest.raises(ConfigError) as caught:
        validate_config(with_headers(headers))
    assert any(p.startswith("providers[0].headers") and problem in p for p in caught.value.problems)
    assert "sk-secret" not in str(caught.value)


def test_a_key_with_a_control_character_is_refused_without_quoting_it() -> None:
    data = with_headers({})
    data["providers"][0]["apiKey"] = "sk-secret\nkey"
    with pytest.raises(ConfigError) as caught:
        validate_config(data)
    assert any(p.startswith("providers[0].apiKey") for p in caught.value.problems)
    assert "sk-secret" not in str(caught.value)
