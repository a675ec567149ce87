from __future__ import annotations

import pytest

from chain429.errors import ConfigError
from chain429.sim.config import Dialect, SimProviderConfig, merge_config, parse_sim_config

YAML_TEXT = """
port: 8901
providers:
  - name: groqsim
    dialect: groq
    requestsPerWindow: 10
    window_seconds: 60
  - name: solo
    prefix: /custom/
"""


def test_yaml_accepts_camel_and_snake_case_keys() -> None:
    config = parse_sim_config(YAML_TEXT)
    groq, solo = config.providers
    assert (groq.dialect, groq.requests_per_window, groq.window_seconds) == (Dialect.GROQ, 10, 60)
    assert groq.path_prefix == "/groqsim"
    assert solo.path_prefix == "/custom"
    assert config.port == 8901


def test_a_bare_list_is_a_list_of_providers() -> None:
    assert parse_sim_config("- name: a\n- name: b\n").providers[1].name == "b"


def test_errors_name_the_field() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_sim_config("providers:\n  - name: a\n    errorRate: 2\n")
    assert any("providers[0].errorRate" in p for p in caught.value.problems)


@pytest.mark.parametrize(
    "text",
    [
        "providers:\n  - name: a\n  - name: a\n",
        "providers:\n  - name: a\n    prefix: ''\n  - name: b\n",
    ],
)
def test_duplicate_or_shadowing_providers_are_refused(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_sim_config(text)


def test_merge_applies_changes_and_validates() -> None:
    config = SimProviderConfig(name="a")
    merged = merge_config(config, {"error_rate": 1, "statusOverride": 402})
    assert (merged.error_rate, merged.status_override) == (1.0, 402)
    with pytest.raises(ConfigError):
        merge_config(config, {"error_rate": 3})
    with pytest.raises(ConfigError):
        merge_config(config, {"no_such_field": 1})
    with pytest.raises(ConfigError):
        merge_config(config, {"name": "b"})
