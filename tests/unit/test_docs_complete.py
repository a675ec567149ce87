"""The reference in docs/ must keep up with the code: every config field (with its default and
the schema's description), environment variable, route and provider type is documented, every
message the troubleshooting page quotes still exists in src/, and every relative link works."""

from __future__ import annotations

import ast
import inspect
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticUndefined
from ruamel.yaml import YAML

from chain429.config import schema
from chain429.config.environment import COMMAND_VARIABLES, SETTING_VARIABLES
from chain429.config.schema import DEFAULT_BASE_URLS, ProviderType, Settings
from tests.support.app_routes import app_routes, without_names

ROOT = Path(__file__).parents[2]
DOCS = ROOT / "docs"
SOURCE = ROOT / "src" / "chain429"
ORIGINAL_EXAMPLE = Path(__file__).parent / "config" / "original_example.yaml"


def _page(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def _section(text: str, heading: str) -> str:
    """The text under `heading` (a whole heading line), up to the next heading of its level."""
    level = heading.split(" ", 1)[0]
    after = text.split(f"\n{heading}\n", 1)[1]
    return re.split(rf"\n{level} ", after, maxsplit=1)[0]


def _table_rows(text: str) -> dict[str, list[str]]:
    """The rows of the markdown tables in `text`, by their first cell (backticks removed)."""
    rows: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line.startswith("| `"):
            cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
            rows[cells[0].strip("`")] = cells
    return rows


# -- config fields -----------------------------------------------------------------------------


def _config_models() -> list[type[BaseModel]]:
    return [
        model
        for _, model in inspect.getmembers(schema, inspect.isclass)
        if issubclass(model, BaseModel)
        and model.__module__ == schema.__name__
        and model.model_fields
    ]


def _model_fields() -> list[tuple[str, str]]:
    return [(m.__name__, to_camel(name)) for m in _config_models() for name in m.model_fields]


def test_every_config_model_is_covered() -> None:
    names = {model.__name__ for model in _config_models()}
    assert {"Config", "Settings", "ProviderConfig", "RateLimits", "Chain", "ChainEntry"} <= names


@pytest.mark.parametrize(("model", "field"), _model_fields())
def test_every_config_field_has_a_row(model: str, field: str) -> None:
    rows = _table_rows(_page("configuration.md"))
    assert field in rows, f"docs/configuration.md has no table row for {model}.{field}"


def _documented_default(value: Any) -> str:
    if value is PydanticUndefined:
        return "(required)"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if value == () or value is None:
        return "none"
    return f"`{value}`"


@pytest.mark.parametrize("name", list(Settings.model_fields))
def test_every_setting_has_its_default_and_the_schemas_description(name: str) -> None:
    info = Settings.model_fields[name]
    rows = _table_rows(_section(_page("configuration.md"), "## `settings`"))
    _, _, default, meaning = rows[to_camel(name)]
    assert default.startswith(_documented_default(info.default)), (name, default)
    assert info.description is not None
    assert info.description in meaning, f"settings.{to_camel(name)}: not the schema's description"


def test_the_settings_marked_restart_needed_are_those_read_once() -> None:
    from chain429.reconfigure import RESTART_REQUIRED

    rows = _table_rows(_section(_page("configuration.md"), "## `settings`"))
    marked = {f"settings.{name}" for name, row in rows.items() if "Restart needed." in row[-1]}
    assert marked == set(RESTART_REQUIRED)


def _original_fields(section: Any) -> set[str]:
    if isinstance(section, list):
        return set().union(*(_original_fields(item) for item in section))
    return set(section) if isinstance(section, dict) else set()


def test_migrating_lists_the_fields_the_original_example_lacks() -> None:
    original = YAML(typ="safe", pure=True).load(ORIGINAL_EXAMPLE.read_text(encoding="utf-8"))
    listing = _section(_page("migrating.md"), "### Fields the original's example does not have")
    sections: dict[type[BaseModel], set[str]] = {
        schema.Settings: _original_fields(original["settings"]),
        schema.ProviderConfig: _original_fields(original["providers"]),
        schema.RateLimits: _original_fields([p.get("rateLimits") for p in original["providers"]]),
    }
    for model, present in sections.items():
        for field in (to_camel(name) for name in model.model_fields):
            if field not in present:
                assert f"`{field}`" in listing, f"migrating.md does not list new field {field}"


# -- environment variables ---------------------------------------------------------------------


def _variable_rows() -> dict[str, list[str]]:
    table = _section(_page("configuration.md"), "## Environment variables")
    return {k: v for k, v in _table_rows(table).items() if k.startswith("CHAIN429_")}


def test_the_table_lists_exactly_the_variables_429chain_reads() -> None:
    assert set(_variable_rows()) == set(SETTING_VARIABLES) | set(COMMAND_VARIABLES)


@pytest.mark.parametrize(("variable", "setting"), SETTING_VARIABLES.items())
def test_each_setting_variable_names_its_setting(variable: str, setting: str) -> None:
    _, sets, _, example = _variable_rows()[variable]
    assert f"`settings.{setting}`" in sets
    assert example.startswith("`")


# -- routes ------------------------------------------------------------------------------------


def _routes() -> list[str]:
    return [f"{method} {path}" for method, path in app_routes()]


@pytest.mark.parametrize("route", _routes())
def test_every_route_is_in_the_api_page(route: str) -> None:
    assert f"`{without_names(route)}`" in without_names(_page("api.md")), (
        f"docs/api.md does not document {route}"
    )


def _is_source_word(word: str) -> bool:
    """Whether `word` is a string of src/, or what an f-string of src/ (with some words of its
    own, not only interpolations) makes of some value."""
    return any(
        text == word
        or (
            _FORMATTED in text
            and len(text.replace(_FORMATTED, "")) >= 4
            and re.fullmatch(re.escape(text).replace(_FORMATTED, ".+"), word)
        )
        for text in _source_strings()
    )


def _error_codes() -> list[str]:
    table = _section(_page("api.md"), "## Errors")
    codes = {
        code
        for line in table.splitlines()
        if line.startswith("| 4") or line.startswith("| 5")
        for code in re.findall(r"`([a-z_]+)`", line.split(" | ")[1])
    }
    return sorted(codes)


@pytest.mark.parametrize("code", _error_codes())
def test_every_error_code_in_the_api_page_exists(code: str) -> None:
    assert _is_source_word(code), f"docs/api.md names an error code no longer in src/: {code}"


def _metric_names() -> list[str]:
    text = (SOURCE / "usage" / "metrics.py").read_text(encoding="utf-8")
    return sorted(set(re.findall(r'"(chain429_[a-z_]+)"', text)))


@pytest.mark.parametrize("metric", _metric_names())
def test_every_metric_is_in_the_api_page(metric: str) -> None:
    page = _page("api.md")
    assert f"`{metric}`" in page or f"`{metric}_total`" in page, f"docs/api.md lacks {metric}"


# -- provider types ----------------------------------------------------------------------------


@pytest.mark.parametrize("provider_type", list(ProviderType))
def test_every_provider_type_has_a_section_with_its_base_url(provider_type: ProviderType) -> None:
    section = _section(_page("providers.md"), f"## {provider_type.value}")
    url = DEFAULT_BASE_URLS.get(provider_type)
    if url is None:
        assert "`baseUrl` is required" in section
    else:
        assert f"`{url}`" in section


# -- troubleshooting messages ------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"<[^<>\n]+>")
_FORMATTED = "\x00"


def _template(node: ast.JoinedStr) -> str:
    return "".join(
        part.value if isinstance(part, ast.Constant) and isinstance(part.value, str) else _FORMATTED
        for part in node.values
    )


@cache
def _source_strings() -> tuple[str, ...]:
    """Every string literal of src/, an f-string's interpolations as one marker character."""
    found: list[str] = []
    for path in SOURCE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.JoinedStr):
                found.append(_template(node))
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.append(node.value)
    return tuple(found)


def _quoted_messages() -> Iterator[str]:
    for line in _page("troubleshooting.md").splitlines():
        if line.startswith("### "):
            heading = line.removeprefix("### ")
            spans = re.findall(r"``(.+?)``|`([^`]+)`", heading)
            assert spans, f"a troubleshooting heading quotes no message: {heading}"
            for double, single in spans:
                yield double or single


def _pattern(message: str) -> re.Pattern[str]:
    pieces = _PLACEHOLDER.split(message)
    return re.compile(".+?".join(re.escape(piece) for piece in pieces), re.IGNORECASE | re.DOTALL)


@pytest.mark.parametrize("message", list(_quoted_messages()))
def test_every_quoted_message_still_exists(message: str) -> None:
    pattern = _pattern(message)
    assert any(pattern.search(text) for text in _source_strings()), (
        f"troubleshooting.md quotes a message no longer in src/: {message}"
    )


def test_an_error_code_that_is_gone_is_caught() -> None:
    assert _is_source_word("name_mismatch")
    assert not _is_source_word("bogus_code")


def test_a_message_that_is_gone_is_caught() -> None:
    assert not any(
        _pattern("usage database <path> is on fire").search(t) for t in _source_strings()
    )
    assert any(_pattern("usage database <path> is read-only").search(t) for t in _source_strings())


# -- links -------------------------------------------------------------------------------------

_LINK = re.compile(r"\]\(([^)\s]+)\)")


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    anchors: set[str] = set()
    seen: dict[str, int] = {}
    in_code = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            in_code = not in_code
        if in_code or not line.startswith("#"):
            continue
        slug = _slug(line.lstrip("#"))
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


def _links() -> list[tuple[str, str]]:
    pages = [*sorted(DOCS.glob("*.md")), ROOT / "README.md"]
    return [
        (str(page.relative_to(ROOT)), target)
        for page in pages
        for target in _LINK.findall(page.read_text(encoding="utf-8"))
        if not re.match(r"[a-z]+:", target)
    ]


@pytest.mark.parametrize(("page", "target"), _links())
def test_every_relative_link_points_at_a_file_and_heading(page: str, target: str) -> None:
    file_part, _, anchor = target.partition("#")
    source = ROOT / page
    linked = (source.parent / file_part).resolve() if file_part else source
    assert linked.exists(), f"{page}: {target} points at no file"
    if anchor:
        assert anchor in _anchors(linked), f"{page}: {target} points at no heading"


def test_the_readme_links_to_the_docs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "(docs/README.md)" in readme
    index = _page("README.md")
    for page in sorted(DOCS.glob("*.md")):
        if page.name != "README.md":
            assert f"({page.name})" in index, f"docs/README.md does not link {page.name}"
