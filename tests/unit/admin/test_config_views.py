"""The configuration as the API shows it: every value, keys and header values as labels only."""

from __future__ import annotations

import orjson

from chain429.admin.config_views import (
    config_view,
    original_config,
    provider_view,
    settings_view,
)
from chain429.config.load import parse_config

KEYS = {
    "GROQ": "gsk-groq-secret-aaaa1111",
    "EXTRA": "gsk-groq-secret-bbbb2222",
    "CLIENT": "client-secret-cccc3333",
    "ADMIN": "adm-admin-secret-dddd4444",
    "HEADER": "azure-header-secret-eeee5555",
}
TEXT = """
version: 1
settings:
  apiKeys: ["${CLIENT}", "short"]
  adminKeys: ["${ADMIN}"]
  defaultChain: fast
  corsOrigins: ["http://localhost:5173"]
providers:
  - id: groq
    name: Groq
    type: groq
    apiKey: "${GROQ}"
    apiKeys: ["${EXTRA}"]
    rateLimits: {requestsPerMinute: 30}
    headers: {X-Title: demo, api-key: "${HEADER}"}
  - id: local
    type: generic-openai
    apiKey: none
    baseUrl: http://127.0.0.1:8000/v1/
    timeout: 5000
chains:
  - name: fast
    entries:
      - {provider: groq, model: llama}
  - name: all
    entries:
      - {provider: local, model: m, rateLimits: {concurrentRequests: 2}}
      - {provider: groq, model: llama}
"""
CONFIG = parse_config(TEXT, KEYS)


def test_no_key_appears_anywhere_in_the_whole_view() -> None:
    shown = orjson.dumps(config_view(CONFIG).model_dump(mode="json", by_alias=True)).decode()
    shown += orjson.dumps(original_config(CONFIG)).decode()
    for key in KEYS.values():
        assert key not in shown, key
    assert '"short"' not in shown and '"none"' not in shown, "keys too short for a label"
    assert '"demo"' in shown, "a header that carries no credential is shown as it is"


def test_a_provider_shows_its_values_and_its_keys_labels_in_order() -> None:
    groq = provider_view(CONFIG.providers[0], CONFIG).model_dump(mode="json", by_alias=True)
    assert groq == {
        "id": "groq",
        "name": "Groq",
        "type": "groq",
        "keys": [{"label": "…1111"}, {"label": "…2222"}],
        "baseUrl": None,
        "timeout": None,
        "rateLimits": {
            "requestsPerMinute": 30,
            "requestsPerHour": None,
            "requestsPerDay": None,
            "tokensPerMinute": None,
            "tokensPerDay": None,
            "concurrentRequests": None,
        },
        "headers": {"X-Title": "demo", "api-key": "…5555"},
        "keysShareLimits": None,
        "dailyResetTimezone": None,
    }
    local = provider_view(CONFIG.providers[1], CONFIG)
    assert local.base_url == "http://127.0.0.1:8000/v1" and local.timeout == 5000
    assert [k.label for k in local.keys] == ["key#1"], "a key too short for a label"


def test_the_settings_show_key_labels_and_every_value() -> None:
    shown = settings_view(CONFIG.settings).model_dump(mode="json", by_alias=True)
    assert shown["apiKeyLabels"] == ["…3333", "key#2"]
    assert shown["adminKeyLabels"] == ["…4444"]
    assert shown["defaultChain"] == "fast" and shown["corsOrigins"] == ["http://localhost:5173"]
    assert shown["queueMode"] is False and shown["port"] == 3429
    assert "apiKeys" not in shown and "adminKeys" not in shown


def test_the_whole_view_keeps_config_order_and_marks_the_default_chain() -> None:
    view = config_view(CONFIG)
    assert view.version == 1
    assert [p.id for p in view.providers] == ["groq", "local"]
    assert [(c.name, c.is_default) for c in view.chains] == [("fast", True), ("all", False)]
    assert [e.provider for e in view.chains[1].entries] == ["local", "groq"]


def test_the_original_shape_masks_every_key_and_has_no_settings() -> None:
    assert original_config(CONFIG) == {
        "providers": [
            {
                "id": "groq",
                "name": "Groq",
                "type": "groq",
                "apiKey": "***",
                "apiKeys": ["***"],
                "rateLimits": {"requestsPerMinute": 30},
                "headers": {"X-Title": "demo", "api-key": "***"},
            },
            {
                "id": "local",
                "name": "",
                "type": "generic-openai",
                "apiKey": "***",
                "baseUrl": "http://127.0.0.1:8000/v1",
                "timeout": 5000,
            },
        ],
        "chains": [
            {"name": "fast", "entries": [{"provider": "groq", "model": "llama"}]},
            {
                "name": "all",
                "entries": [
                    {"provider": "local", "model": "m", "rateLimits": {"concurrentRequests": 2}},
                    {"provider": "groq", "model": "llama"},
                ],
            },
        ],
    }
