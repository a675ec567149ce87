"""`${VAR}` and `${VAR:-default}` in config strings, replaced from the environment.

`${VAR}` needs VAR set and not empty; `${VAR:-default}` falls back to `default` when VAR is
unset or empty, as in the shell. Any other `${...}` is an error, so a reference the loader
does not understand is never passed on as literal text (and sent upstream as a key).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from chain429.config.schema import EnvironmentText
from chain429.errors import ConfigError

_REFERENCE: Final = re.compile(r"\$\{(?P<body>[^}]*)\}?")
_BODY: Final = re.compile(r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>.*))?", re.DOTALL)


def expand_environment(raw: Any, environ: Mapping[str, str]) -> Any:
    """`raw` (parsed YAML) with every reference replaced; a ConfigError lists each bad one."""
    problems: list[str] = []
    expanded = _expand(raw, environ, "", problems)
    if problems:
        raise ConfigError(problems)
    return expanded


def _expand(value: Any, environ: Mapping[str, str], path: str, problems: list[str]) -> Any:
    if isinstance(value, str):
        return _substitute(value, environ, path, problems)
    if isinstance(value, dict):
        return {
            k: _expand(v, environ, f"{path}.{k}" if path else str(k), problems)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_expand(v, environ, f"{path}[{i}]", problems) for i, v in enumerate(value)]
    return value


def _substitute(text: str, environ: Mapping[str, str], path: str, problems: list[str]) -> str:
    if "${" not in text:
        return text

    def replace(match: re.Match[str]) -> str:
        problem, value = _resolve(match, environ)
        if problem is not None:
            problems.append(f"{path}: {problem}")
        return value

    return EnvironmentText(_REFERENCE.sub(replace, text))


def _resolve(match: re.Match[str], environ: Mapping[str, str]) -> tuple[str | None, str]:
    """(a problem or None, the replacement text) for one `${...}`."""
    body = _BODY.fullmatch(match.group("body"))
    default = body.group("default") if body is not None else None
    if not match.group(0).endswith("}") or body is None or "${" in (default or ""):
        # The text is not echoed: it may be a key typed where a variable name belongs.
        return "unsupported '${...}': write ${VAR} or ${VAR:-default} (no nesting)", ""
    name = body.group("name")
    value = environ.get(name)
    if value:
        return None, value
    if default is not None:
        return None, default
    if value is None:
        return f"environment variable ${{{name}}} is not set", ""
    return f"environment variable ${{{name}}} is set but empty", ""
