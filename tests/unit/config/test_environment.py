"""Settings from the environment: each named variable wins over the file's value, lists are
comma-separated, empty means unset, a bad value names its variable, and the management API
refuses to change in the file a setting the environment gives."""

from __future__ import annotations

import pytest

from chain429.config.document import ConfigDocument
from chain429.config.environment import (
    LIST_SETTINGS,
    SETTING_VARIABLES,
    environment_settings,
    variable_of,
)
from chain429.config.load import parse_config
from chain429.config.schema import Settings
from chain429.errors import ConfigError

BASE = """\
version: 1
settings:
  apiKeys: [file-client-key]
  defaultChain: default
  host: 127.0.0.1
  port: 3429
providers:
  - {id: a, type: groq, apiKey: key-a}
chains:
  - name: default
    entries:
      - {provider: a, model: m1}
"""


def test_the_environment_wins_over_the_file() -> None:
    config = parse_config(
        BASE,
        {
            "CHAIN429_HOST": "0.0.0.0",
            "CHAIN429_PORT": "8080",
            "CHAIN429_DB_PATH": "/data/429chain.db",
            "CHAIN429_LOG_LEVEL": "debug",
            "CHAIN429_API_KEYS": "client-one, client-two",
            "CHAIN429_ADMIN_KEYS": "admin-one",
            "CHAIN429_CORS_ORIGINS": "https://dash.example.org",
            "CHAIN429_STATE_STORE": "redis://redis.internal:6379/0",
        },
    )
    settings = config.settings
    assert (settings.host, settings.port) == ("0.0.0.0", 8080)
    assert settings.db_path == "/data/429chain.db"
    assert settings.log_level == "debug"
    assert settings.api_keys == ("client-one", "client-two")
    assert settings.admin_keys == ("admin-one",)
    assert settings.cors_origins == ("https://dash.example.org",)
    assert settings.state_store == "redis://redis.internal:6379/0"


def test_unset_or_empty_variables_leave_the_file_as_it_is() -> None:
    config = parse_config(BASE, {"CHAIN429_PORT": "", "CHAIN429_HOST": "   "})
    assert (config.settings.host, config.settings.port) == ("127.0.0.1", 3429)
    assert config.settings.api_keys == ("file-client-key",)


def test_a_file_without_settings_takes_them_from_the_environment() -> None:
    text = BASE.replace(
        "settings:\n  apiKeys: [file-client-key]\n  defaultChain: default\n"
        "  host: 127.0.0.1\n  port: 3429\n",
        "settings:\n  defaultChain: default\n",
    )
    config = parse_config(text, {"CHAIN429_API_KEYS": "only-from-env"})
    assert config.settings.api_keys == ("only-from-env",)


@pytest.mark.parametrize(
    ("variable", "value", "setting"),
    [("CHAIN429_PORT", "eighty", "port"), ("CHAIN429_LOG_LEVEL", "loud", "logLevel")],
)
def test_a_bad_value_names_the_variable_that_gave_it(
    variable: str, value: str, setting: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(BASE, {variable: value})
    [problem] = caught.value.problems
    assert problem.startswith(f"settings.{setting}")
    assert problem.endswith(f"(from the environment variable {variable})")


def test_an_empty_item_in_a_list_is_refused_with_its_variable() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(BASE, {"CHAIN429_API_KEYS": "one,,two"})
    assert any("CHAIN429_API_KEYS" in problem for problem in caught.value.problems)


def test_every_variable_names_a_setting_of_the_schema() -> None:
    camel = set(Settings.model_json_schema(by_alias=True)["properties"])
    assert set(SETTING_VARIABLES.values()) <= camel
    assert set(LIST_SETTINGS) <= set(SETTING_VARIABLES.values())
    for variable, setting in SETTING_VARIABLES.items():
        assert variable.startswith("CHAIN429_")
        assert variable_of(setting) == variable


def test_lists_are_split_at_commas_and_trimmed() -> None:
    given = environment_settings({"CHAIN429_ADMIN_KEYS": " a , b ", "CHAIN429_PORT": "1"})
    assert given == {"adminKeys": ["a", "b"], "port": "1"}


def test_the_file_cannot_be_changed_where_the_environment_decides() -> None:
    document = ConfigDocument.parse(BASE, environ={"CHAIN429_PORT": "8080"})
    with pytest.raises(ConfigError) as caught:
        document.update_settings({"port": 9000})
    [problem] = caught.value.problems
    assert problem.startswith("settings.port: set by the environment variable CHAIN429_PORT")
    document.update_settings({"host": "0.0.0.0"})
    assert "host: 0.0.0.0" in document.text()
    assert "port: 3429" in document.text()


def test_a_reference_in_a_setting_the_environment_replaces_need_not_be_set() -> None:
    text = BASE.replace("apiKeys: [file-client-key]", 'apiKeys: ["${CLIENT_KEY_NOT_SET}"]')
    with pytest.raises(ConfigError):
        parse_config(text, {})
    config = parse_config(text, {"CHAIN429_API_KEYS": "from-the-environment"})
    assert config.settings.api_keys == ("from-the-environment",)
