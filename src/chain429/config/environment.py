"""Settings a deployment gives in its environment instead of the config file: a container's
`-e` or `.env`, a systemd unit's `Environment=`. Each variable is named here once; the docs'
table of variables is checked against these lists.

A variable that is set and not empty wins over the file's value (the command line's `--host`
and `--port` win over both). The file itself is never changed: a setting the environment gives
stays the environment's, and the management API refuses to change it in the file (it would not
apply)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from chain429.config.schema import EnvironmentText

#: Variable -> the setting it gives (camelCase, as in the file). Lists are comma-separated.
SETTING_VARIABLES: Final[Mapping[str, str]] = {
    "CHAIN429_HOST": "host",
    "CHAIN429_PORT": "port",
    "CHAIN429_DB_PATH": "dbPath",
    "CHAIN429_DATABASE": "database",
    "CHAIN429_LOG_LEVEL": "logLevel",
    "CHAIN429_API_KEYS": "apiKeys",
    "CHAIN429_ADMIN_KEYS": "adminKeys",
    "CHAIN429_CORS_ORIGINS": "corsOrigins",
    "CHAIN429_STATE_STORE": "stateStore",
}

#: The settings whose variable holds a comma-separated list.
LIST_SETTINGS: Final = frozenset({"apiKeys", "adminKeys", "corsOrigins"})

#: Variables the `429chain` command reads itself, with what they give.
COMMAND_VARIABLES: Final[Mapping[str, str]] = {
    "CHAIN429_CONFIG": "the config file, when `--config` is not given",
    "CHAIN429_LOG_FORMAT": "the request log's format (`console` or `json`), when `--log-format` "
    "is not given",
}

_VARIABLE_OF: Final = {setting: variable for variable, setting in SETTING_VARIABLES.items()}


def environment_settings(environ: Mapping[str, str]) -> dict[str, Any]:
    """The settings the environment gives (set and not empty), by their camelCase name."""
    given: dict[str, Any] = {}
    for variable, setting in SETTING_VARIABLES.items():
        value = environ.get(variable, "").strip()
        if not value:
            continue
        if setting in LIST_SETTINGS:
            given[setting] = [EnvironmentText(item.strip()) for item in value.split(",")]
        else:
            given[setting] = EnvironmentText(value)
    return given


def without_settings(raw: Any, given: Mapping[str, Any]) -> Any:
    """`raw` (a parsed config file) without its values of the settings in `given`."""
    settings = raw.get("settings") if given and isinstance(raw, dict) else None
    if not isinstance(settings, dict):
        return raw  # nothing to take out, or the schema says what is wrong with the file
    return {**raw, "settings": {k: v for k, v in settings.items() if k not in given}}


def with_settings(raw: Any, given: Mapping[str, Any]) -> Any:
    """`raw` with the settings in `given` in place of the file's."""
    if not given or not isinstance(raw, dict):
        return raw
    settings = raw.get("settings")
    if settings is not None and not isinstance(settings, dict):
        return raw  # the schema says what is wrong with the file
    return {**raw, "settings": {**(settings or {}), **given}}


def variable_of(setting: str) -> str | None:
    """The variable that gives `setting` (camelCase), if there is one."""
    return _VARIABLE_OF.get(setting)


def with_variable_named(problem: str, environ: Mapping[str, str]) -> str:
    """A config problem about a setting the environment gave, saying which variable gave it:
    the user looks for the value there, not in the file."""
    for setting in environment_settings(environ):
        path = f"settings.{setting}"
        if problem == path or problem.startswith((f"{path}:", f"{path}[", f"{path} ")):
            return f"{problem} (from the environment variable {_VARIABLE_OF[setting]})"
    return problem
