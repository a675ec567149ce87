"""Read a YAML config file into a validated `Config`, with errors that name the field path."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from chain429.config.schema import Config
from chain429.errors import ConfigError

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def load_config(path: str | Path, environ: Mapping[str, str] | None = None) -> Config:
    """Load, interpolate and validate the config at `path`."""
    return parse_config(read_text(path, "config file"), environ, source=str(path))


def read_text(path: str | Path, what: str) -> str:
    """The UTF-8 text at `path`, or a ConfigError naming it as `what`."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read {what} ({exc.strerror})"]) from exc


def read_yaml(text: str, source: str) -> Any:
    """`text` parsed as YAML (safe loader), or a ConfigError naming `source`."""
    try:
        return YAML(typ="safe", pure=True).load(text)
    except YAMLError as exc:
        raise ConfigError([f"{source}: not valid YAML: {exc}"]) from exc


def parse_config(
    text: str, environ: Mapping[str, str] | None = None, *, source: str = "<config>"
) -> Config:
    """Validate YAML text as a config."""
    raw = read_yaml(text, source)
    if not isinstance(raw, dict):
        raise ConfigError([f"{source}: the top level must be a mapping"])
    env = os.environ if environ is None else environ
    missing: list[str] = []
    expanded = _expand(raw, env, "", missing)
    if missing:
        raise ConfigError(missing)
    return validate_config(expanded)


def validate_config(data: Any) -> Config:
    """Validate already-parsed data (used by the loader and, later, the management API)."""
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc)) from exc


def describe_validation_error(exc: ValidationError) -> list[str]:
    problems: list[str] = []
    for error in exc.errors(include_url=False):
        path = format_path(error["loc"])
        message = _message(error)
        for line in message.splitlines():
            problems.append(line if not path else f"{path}: {line}")
    return problems


def format_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


def _message(error: Any) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown key (not a config field; check the spelling)"
    if kind == "missing":
        return "required field is missing"
    if kind == "literal_error" and error["loc"] == ("version",):
        return "unsupported config version; expected 1"
    message = str(error["msg"])
    return message.removeprefix("Value error, ")


def _expand(value: Any, env: Mapping[str, str], path: str, missing: list[str]) -> Any:
    if isinstance(value, str):

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in env:
                missing.append(f"{path}: environment variable ${{{name}}} is not set")
                return ""
            return env[name]

        return _ENV_REF.sub(substitute, value)
    if isinstance(value, dict):
        return {
            k: _expand(v, env, f"{path}.{k}" if path else str(k), missing) for k, v in value.items()
        }
    if isinstance(value, list):
        return [_expand(v, env, f"{path}[{i}]", missing) for i, v in enumerate(value)]
    return value
