"""Read a YAML config file into a validated `Config`, with errors that name the field path."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from chain429.config.environment import (
    environment_settings,
    with_settings,
    with_variable_named,
    without_settings,
)
from chain429.config.interpolation import expand_environment
from chain429.config.problems import describe_validation_error
from chain429.config.schema import Config
from chain429.errors import ConfigError


def load_config(path: str | Path, environ: Mapping[str, str] | None = None) -> Config:
    """Load, interpolate and validate the config at `path`."""
    if not Path(path).exists():
        raise ConfigError([f"{path}: no such file; create one with: 429chain init --config {path}"])
    return parse_config(read_text(path, "config file"), environ, source=str(path))


def read_text(path: str | Path, what: str) -> str:
    """The UTF-8 text at `path`, or a ConfigError naming it as `what`."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read {what} ({exc.strerror})"]) from exc


def read_yaml(text: str, source: str) -> Any:
    """`text` parsed as YAML (safe loader), or a ConfigError naming `source` and the line."""
    return load_yaml(YAML(typ="safe", pure=True), text, source)


def load_yaml(yaml: YAML, text: str, source: str) -> Any:
    """`text` loaded by `yaml` (safe or round-trip), or a ConfigError naming `source` and the
    line."""
    try:
        return yaml.load(text)
    except MarkedYAMLError as exc:
        raise ConfigError([_yaml_problem(exc, source)]) from exc
    except YAMLError as exc:
        raise ConfigError([f"{source}: not valid YAML: {exc}"]) from exc


def _yaml_problem(exc: MarkedYAMLError, source: str) -> str:
    mark = exc.problem_mark or exc.context_mark
    where = f"{source}, line {mark.line + 1}, column {mark.column + 1}" if mark else source
    # A duplicate key's message quotes both values, which may be keys.
    problem = str(exc.problem or exc.context or "").partition(" with value ")[0]
    if exc.context and exc.problem and exc.context_mark and exc.context_mark != mark:
        problem += f" ({exc.context} from line {exc.context_mark.line + 1})"
    return f"{where}: not valid YAML: {problem}"


def parse_config(
    text: str, environ: Mapping[str, str] | None = None, *, source: str = "<config>"
) -> Config:
    """Validate YAML text as a config, with the settings the environment gives in place of
    the file's (`config.environment`)."""
    raw = read_yaml(text, source)
    if not isinstance(raw, dict):
        raise ConfigError([f"{source}: the top level must be a mapping"])
    environ = os.environ if environ is None else environ
    # The file's value of a setting the environment gives is never expanded: its `${VAR}` need
    # not be set when the environment replaces it.
    given = environment_settings(environ)
    expanded = with_settings(expand_environment(without_settings(raw, given), environ), given)
    try:
        return validate_config(expanded)
    except ConfigError as exc:
        raise ConfigError([with_variable_named(p, environ) for p in exc.problems]) from exc


def validate_config(data: Any) -> Config:
    """Validate already-parsed data (used by the loader and, later, the management API)."""
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc, Config)) from exc
