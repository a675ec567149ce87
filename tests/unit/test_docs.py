"""Documentation must keep up with the code: every config field is in the README."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel
from pydantic.alias_generators import to_camel

from chain429.config.schema import ChainEntry, ProviderConfig, RateLimits, Settings

README = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")


def _fields(model: type[BaseModel]) -> list[str]:
    return [to_camel(name) for name in model.model_fields]


@pytest.mark.parametrize(
    "field",
    _fields(Settings) + _fields(ProviderConfig) + _fields(RateLimits) + _fields(ChainEntry),
)
def test_every_config_field_is_documented(field: str) -> None:
    assert f"`{field}`" in README, f"README.md does not document the config field `{field}`"


@pytest.mark.parametrize(
    "command", ["make demo", "make test", "429chain init", "429chain check", "429chain serve"]
)
def test_readme_shows_the_commands(command: str) -> None:
    assert command in README
