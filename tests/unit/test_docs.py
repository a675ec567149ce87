"""Documentation must keep up with the code: every config field is in the README."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel
from pydantic.alias_generators import to_camel

from chain429.config.schema import ChainEntry, ProviderConfig, RateLimits, Settings
from tests.support.app_routes import app_routes, without_names

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


def _routes() -> list[str]:
    return sorted({path for _, path in app_routes()})


@pytest.mark.parametrize("path", _routes())
def test_every_route_is_documented(path: str) -> None:
    assert without_names(path) in without_names(README), f"README.md does not document {path}"


def test_the_settings_that_need_a_restart_are_listed_under_live_changes() -> None:
    from chain429.reconfigure import RESTART_REQUIRED

    live = README.split("### Live changes", 1)[1].split("\n## ", 1)[0]
    for path in RESTART_REQUIRED:
        assert f"`{path.removeprefix('settings.')}`" in live, path


def test_the_upstream_faults_table_is_the_fault_matrix() -> None:
    from tests.support.faults import FAULTS, markdown_table, table_line

    section = README.split("### Upstream faults", 1)[1].split("\n## ", 1)[0]
    assert markdown_table() in section, "regenerate it: python -m tests.support.faults"
    rows = [line for line in section.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) == len(FAULTS) + 1, "one line per fault, besides the header"
    for fault in FAULTS:
        assert table_line(fault) in section
