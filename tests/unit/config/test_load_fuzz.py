"""The config loader against any file (issue 16): text that is not YAML, YAML of any shape, and
config-shaped documents with wrong types, unknown fields and `${...}` references in any value.
It returns a config or raises a `ConfigError` whose problems each name where and what; it never
raises anything else."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from chain429.config.load import parse_config
from chain429.config.schema import Config
from chain429.errors import ConfigError

ENVIRON = {"SET_VAR": "value-from-env", "EMPTY_VAR": "", "CHAIN429_PORT": "4000"}

TEXTS = st.text(max_size=20) | st.sampled_from(
    ["${SET_VAR}", "${UNSET_VAR}", "${EMPTY_VAR}", "${SET_VAR:-x}", "${", "${a${b}}", "$SET_VAR"]
)
SCALARS = st.none() | st.booleans() | st.integers(-(10**12), 10**12) | TEXTS
#: Names the schema knows, and some it does not: deep documents reach the validators.
NAMES = st.sampled_from(
    [
        "version",
        "settings",
        "providers",
        "chains",
        "apiKeys",
        "defaultChain",
        "port",
        "host",
        "id",
        "type",
        "apiKey",
        "baseUrl",
        "rateLimits",
        "requestsPerMinute",
        "name",
        "entries",
        "provider",
        "model",
        "dailyResetTimezone",
        "headers",
        "unknownField",
    ]
)
DOCUMENTS = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(NAMES, inner, max_size=5),
    max_leaves=25,
)


def _loaded(text: str) -> Config | ConfigError:
    try:
        return parse_config(text, ENVIRON, source="fuzz.yaml")
    except ConfigError as refused:
        return refused


def _well_said(refused: ConfigError) -> None:
    assert refused.problems
    assert all(isinstance(p, str) and p.strip() for p in refused.problems)
    assert "value-from-env" not in str(refused), "a value from the environment may be a key"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_loads_or_is_refused_with_its_problems(text: str) -> None:
    result = _loaded(text)
    if isinstance(result, ConfigError):
        _well_said(result)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(NAMES, DOCUMENTS, max_size=5))
def test_any_config_shaped_document_loads_or_is_refused(document: dict[str, Any]) -> None:
    result = _loaded(orjson.dumps(document).decode())
    if isinstance(result, ConfigError):
        _well_said(result)
    else:
        assert result.settings.port == 4000, "CHAIN429_PORT wins over the file"
