"""Loading YAML configs: the original 429chain's file shape, `${ENV}` expansion, and errors that
name the field path and the problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from chain429.config.load import load_config, parse_config
from chain429.config.schema import ProviderType
from chain429.errors import ConfigError
from tests.support.configs import EXAMPLE_KEYS

ORIGINAL = Path(__file__).with_name("original_example.yaml")
ENV = {"OPENAI_KEY_FOR_TEST": "sk-from-env-123456"}

BASE = """\
version: 1
settings:
  apiKeys: [client-key]
  defaultChain: default
providers:
  - {id: a, type: groq, apiKey: key-a}
  - {id: b, type: cerebras, apiKey: key-b}
  - {id: c, type: openrouter, apiKey: key-c}
chains:
  - name: default
    entries:
      - {provider: a, model: m1}
      - {provider: b, model: m2}
"""


def problems(text: str, environ: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, environ or {})
    assert str(caught.value).startswith("invalid config:")
    return caught.value.problems


def test_the_original_example_shape_loads_unchanged():
    config = load_config(ORIGINAL, ENV)
    settings = config.settings
    assert settings.port == 3429
    assert settings.host == "127.0.0.1"
    assert settings.api_keys == ("proxy-client-key-1",)
    assert settings.default_chain == "default"
    assert settings.cooldown_default_ms == 60_000
    assert settings.request_timeout_ms == 30_000
    assert settings.stream_idle_timeout_ms == 45_000
    assert settings.db_path == "./data/429chain.db"
    assert settings.normalize_responses is False
    assert settings.mid_stream_failure_threshold == 3
    assert (settings.mid_stream_cooldown_ms, settings.mid_stream_cooldown_max_ms) == (
        30_000,
        600_000,
    )
    assert (settings.queue_mode, settings.queue_max_wait_ms, settings.queue_max_size) == (
        False,
        30_000,
        100,
    )
    assert [p.type for p in config.providers] == [
        ProviderType.OPENROUTER,
        ProviderType.GROQ,
        ProviderType.CEREBRAS,
        ProviderType.OPENAI,
        ProviderType.GENERIC_OPENAI,
    ]
    groq = config.provider("groq")
    assert groq.timeout == 10_000
    assert groq.rate_limits is not None
    assert groq.rate_limits.requests_per_minute == 30
    assert groq.rate_limits.tokens_per_minute == 15_000
    assert groq.rate_limits.requests_per_day == 14_400
    assert groq.rate_limits.concurrent_requests == 4
    assert groq.resolved_base_url == "https://api.groq.com/openai/v1"
    assert config.provider("openai").keys == ("sk-from-env-123456",)
    assert config.provider("moonshot").resolved_base_url == "https://api.moonshot.example/v1"
    assert [c.name for c in config.chains] == ["default", "fast"]
    default = config.chain("default")
    assert default is not None
    assert [(e.provider, e.model) for e in default.entries][0] == (
        "openrouter",
        "meta-llama/llama-3.1-8b-instruct:free",
    )
    assert len(default.entries) == 5


def test_the_packaged_example_config_loads():
    from chain429.config.example import example_config

    config = parse_config(example_config("adm-an-admin-key-1234"), EXAMPLE_KEYS)
    assert config.settings.default_chain == "default"
    assert config.settings.admin_keys == ("adm-an-admin-key-1234",)


def test_env_vars_are_expanded_anywhere_in_a_string():
    text = BASE.replace("apiKey: key-a", "apiKey: 'pre-${KEY_A}-post'").replace(
        "model: m1", "model: '${MODEL}'"
    )
    config = parse_config(text, {"KEY_A": "secret", "MODEL": "llama"})
    assert config.provider("a").keys == ("pre-secret-post",)
    chain = config.chain("default")
    assert chain is not None and chain.entries[0].model == "llama"


def test_a_missing_env_var_is_named_with_its_path():
    text = BASE.replace("apiKey: key-b", "apiKey: '${GROQ_KEY_MISSING}'")
    assert problems(text) == [
        "providers[1].apiKey: environment variable ${GROQ_KEY_MISSING} is not set"
    ]


def test_every_missing_env_var_is_reported():
    text = BASE.replace("key-a", "'${ONE}'").replace("client-key", "'${TWO}'")
    found = problems(text)
    assert "settings.apiKeys[0]: environment variable ${TWO} is not set" in found
    assert "providers[0].apiKey: environment variable ${ONE} is not set" in found


def test_an_env_var_default_applies_when_the_variable_is_unset_or_empty():
    text = BASE.replace("key-a", "'${KEY_A:-fallback-a}'").replace("key-b", "'${KEY_B:-}x'")
    config = parse_config(
        text.replace("key-c", "'${KEY_C:-fallback-c}'"), {"KEY_B": "", "KEY_C": "c"}
    )
    assert config.provider("a").keys == ("fallback-a",)
    assert config.provider("b").keys == ("x",)
    assert config.provider("c").keys == ("c",)


def test_a_set_but_empty_env_var_is_named():
    text = BASE.replace("apiKey: key-b", "apiKey: '${EMPTY_KEY}'")
    assert problems(text, {"EMPTY_KEY": ""}) == [
        "providers[1].apiKey: environment variable ${EMPTY_KEY} is set but empty"
    ]


@pytest.mark.parametrize("reference", ["${KEY:?required}", "${KEY", "${A:-${B}}", "${1KEY}", "${}"])
def test_an_unsupported_reference_is_an_error_not_literal_text(reference):
    text = BASE.replace("apiKey: key-b", f"apiKey: '{reference}'")
    assert problems(text, {"KEY": "k", "A": "a", "B": "b"}) == [
        "providers[1].apiKey: unsupported '${...}': write ${VAR} or ${VAR:-default} (no nesting)"
    ]


@pytest.mark.parametrize("value", ['"yes"', '"true"', "1", "on", "'false'"])
def test_a_boolean_setting_must_be_a_yaml_boolean(value):
    text = BASE.replace("defaultChain: default", f"defaultChain: default\n  queueMode: {value}")
    assert problems(text) == [
        "settings.queueMode: must be true or false (a YAML boolean, unquoted)"
    ]


def test_a_boolean_setting_may_come_from_an_env_var_saying_true_or_false():
    text = BASE.replace("defaultChain: default", "defaultChain: default\n  queueMode: ${QUEUE}")
    assert parse_config(text, {"QUEUE": "true"}).settings.queue_mode is True
    assert parse_config(text, {"QUEUE": "false"}).settings.queue_mode is False
    assert problems(text, {"QUEUE": "yes"}) == [
        "settings.queueMode: must be true or false (a YAML boolean, unquoted)"
    ]


def test_unknown_provider_type_names_path_and_choices():
    text = BASE.replace("type: openrouter", "type: groqq")
    assert problems(text) == [
        "providers[2].type: unknown provider type 'groqq'; expected one of openrouter, groq, "
        "cerebras, openai, google-ai, mistral, github-models, nvidia-nim, generic-openai"
    ]


def test_duplicate_provider_id():
    text = BASE.replace("id: c,", "id: a,")
    assert problems(text) == ["providers[2].id: duplicate provider id 'a'"]


def test_duplicate_chain_name():
    text = BASE + "  - name: default\n    entries: [{provider: a, model: x}]\n"
    assert problems(text) == ["chains[1].name: duplicate chain name 'default'"]


def test_dangling_provider_reference():
    text = BASE.replace("{provider: b, model: m2}", "{provider: bb, model: m2}")
    assert problems(text) == ["chains[0].entries[1].provider: unknown provider 'bb'"]


def test_missing_default_chain():
    text = BASE.replace("defaultChain: default", "defaultChain: main")
    assert problems(text) == ["settings.defaultChain: no chain named 'main'"]


def test_several_cross_reference_problems_are_all_listed():
    text = BASE.replace("id: c,", "id: a,").replace("defaultChain: default", "defaultChain: x")
    found = problems(text)
    assert "providers[2].id: duplicate provider id 'a'" in found
    assert "settings.defaultChain: no chain named 'x'" in found


@pytest.mark.parametrize(
    ("old", "new", "path", "meant"),
    [
        (
            "defaultChain: default",
            "defaultChain: default\n  cooldownDefaultMS: 5",
            "settings.cooldownDefaultMS",
            "cooldownDefaultMs",
        ),
        ("defaultChain: default", "defaultChian: default", "settings.defaultChian", "defaultChain"),
        (
            "apiKey: key-a}",
            "apiKey: key-a, baseURL: 'http://x'}",
            "providers[0].baseURL",
            "baseUrl",
        ),
        ("apiKey: key-a}", "apiKee: key-a}", "providers[0].apiKee", "apiKey"),
        (
            "{provider: a, model: m1}",
            "{provider: a, modle: m1}",
            "chains[0].entries[0].modle",
            "model",
        ),
        ("settings:", "setting:", "setting", "settings"),
        (
            "apiKey: key-b}",
            "apiKey: key-b, rateLimits: {requestPerMinute: 5}}",
            "providers[1].rateLimits.requestPerMinute",
            "requestsPerMinute",
        ),
    ],
    ids=["settings", "settings-required", "provider", "provider-key", "entry", "top", "limits"],
)
def test_an_unknown_key_says_which_key_was_meant_and_is_reported_once(old, new, path, meant):
    assert problems(BASE.replace(old, new)) == [f"{path}: unknown key; did you mean '{meant}'?"]


def test_an_unknown_key_like_no_known_one_is_named():
    text = BASE.replace("defaultChain: default", "defaultChain: default\n  colour: blue")
    assert problems(text) == [
        "settings.colour: unknown key (not a config field; check the spelling)"
    ]


def test_generic_openai_needs_base_url():
    text = BASE.replace("type: openrouter", "type: generic-openai")
    assert problems(text) == ["providers[2]: type generic-openai needs baseUrl"]


def test_generic_openai_with_base_url_loads_and_loses_trailing_slash():
    text = BASE.replace(
        "type: openrouter", "type: generic-openai, baseUrl: 'http://127.0.0.1:8000/v1/'"
    )
    assert parse_config(text, {}).provider("c").resolved_base_url == "http://127.0.0.1:8000/v1"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("apiKey: key-b}", "}", "providers[1]: needs apiKey (or apiKeys)"),
        ("version: 1", "version: 2", "version: unsupported config version; expected 1"),
        (
            "apiKey: key-a}",
            "apiKey: key-a, baseUrl: 'ftp://x'}",
            "providers[0].baseUrl: 'ftp://x' is not an http(s) URL",
        ),
        ("apiKeys: [client-key]", "apiKeys: []", "settings.apiKeys: "),
        ("defaultChain: default", "defaultChain: default\n  port: 70000", "settings.port: "),
        (
            "defaultChain: default",
            "defaultChain: default\n  cooldownDefaultMs: -1",
            "settings.cooldownDefaultMs: ",
        ),
        ("apiKey: key-a}", "apiKey: key-a, timeout: 5}", "providers[0].timeout: "),
        (
            "apiKey: key-a}",
            "apiKey: key-a, rateLimits: {requestsPerMinute: 0}}",
            "providers[0].rateLimits.requestsPerMinute: ",
        ),
        (
            "    entries:\n      - {provider: a, model: m1}\n      - {provider: b, model: m2}\n",
            "    entries: []\n",
            "chains[0].entries: ",
        ),
        ("defaultChain: default", "defaultChain: default\n  logLevel: loud", "settings.logLevel: "),
    ],
    ids=[
        "no-key",
        "version",
        "base-url",
        "no-client-keys",
        "port",
        "negative-cooldown",
        "tiny-timeout",
        "zero-limit",
        "empty-chain",
        "log-level",
    ],
)
def test_invalid_values_name_their_path(old, new, expected):
    text = BASE.replace(old, new)
    assert text != BASE
    found = problems(text)
    assert any(p.startswith(expected) for p in found), found


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("version: [1", "<config>, line 1, column 12: not valid YAML: expected ',' or ']'"),
        ("- a\n- b\n", "<config>: the top level must be a mapping"),
        ("", "<config>: the top level must be a mapping"),
        ("version: 1\n", "settings: required field is missing"),
    ],
)
def test_unusable_files(text, expected):
    assert any(p.startswith(expected) for p in problems(text))


def test_a_missing_file_says_how_to_create_one(tmp_path):
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError) as caught:
        load_config(missing)
    assert caught.value.problems == [
        f"{missing}: no such file; create one with: 429chain init --config {missing}"
    ]


def test_a_yaml_syntax_error_names_the_file_and_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text(BASE.replace("  defaultChain: default", "  defaultChain: default: x"))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    (problem,) = caught.value.problems
    assert problem.startswith(f"{path}, line 4, column 24: not valid YAML: mapping values"), problem
    assert "<unicode string>" not in problem


def test_a_duplicate_key_is_named_without_quoting_its_values():
    text = BASE.replace("apiKey: key-a}", "apiKey: key-secret-1, apiKey: key-secret-2}")
    (problem,) = problems(text)
    assert problem.startswith("<config>, line 6, column ") and 'duplicate key "apiKey"' in problem
    assert "key-secret" not in problem


def test_environment_defaults_to_os_environ(monkeypatch):
    monkeypatch.setenv("CHAIN429_TEST_KEY_A", "from-os")
    config = parse_config(BASE.replace("key-a", "'${CHAIN429_TEST_KEY_A}'"))
    assert config.provider("a").keys == ("from-os",)


def test_a_key_cannot_be_both_a_client_key_and_an_admin_key():
    text = BASE.replace("  defaultChain:", "  adminKeys: [client-key]\n  defaultChain:")
    (problem,) = problems(text)
    assert problem.startswith("settings: ") and "both a client key" in problem
    assert "client-key" not in problem.replace("client key", ""), "the key is never echoed"


@pytest.mark.parametrize(
    "origin", ["http://localhost:5173/", "localhost:5173", "*", "http://a.example/app", ""]
)
def test_a_cors_origin_must_be_an_origin(origin):
    text = BASE.replace("  defaultChain:", f"  corsOrigins: ['{origin}']\n  defaultChain:")
    (problem,) = problems(text)
    assert problem.startswith("settings.corsOrigins: ") and "is not an origin" in problem


def test_cors_origins_and_admin_keys_load():
    text = BASE.replace(
        "  defaultChain:",
        "  adminKeys: [adm-1]\n  corsOrigins: ['http://localhost:5173', 'https://ui.example']\n"
        "  defaultChain:",
    )
    settings = parse_config(text, {}).settings
    assert settings.admin_keys == ("adm-1",)
    assert settings.cors_origins == ("http://localhost:5173", "https://ui.example")
