"""What each setting means, from the one place that says it: the config schema's field
descriptions (`config.schema.Settings`), with each setting's kind of value, bounds and default
as the schema's JSON Schema states them, and whether a change waits for a restart
(`reconfigure.RESTART_REQUIRED`). The dashboard's Settings page is built from this list, so a
setting added to the schema shows there with its meaning, and one without a description makes
this list fail to build (the route answers 500, a test fails) instead of showing blank."""

from __future__ import annotations

from functools import cache
from typing import Any, Final

from chain429.admin.api_models import SettingField, SettingKind
from chain429.config.document import SETTINGS_KEYS
from chain429.config.environment import variable_of
from chain429.config.schema import Settings
from chain429.reconfigure import RESTART_REQUIRED

#: The settings whose values answers never show (only their labels): the config document's own
#: list of the settings that hold keys.
KEY_SETTINGS: Final = frozenset(SETTINGS_KEYS)


@cache
def setting_fields() -> tuple[SettingField, ...]:
    """Every setting, in the schema's order."""
    schema = Settings.model_json_schema(by_alias=True, mode="validation")
    required = set(schema.get("required", ()))
    return tuple(
        _field(name, spec, name in required) for name, spec in schema["properties"].items()
    )


def _field(name: str, spec: dict[str, Any], required: bool) -> SettingField:
    description = spec.get("description", "").strip()
    if not description:
        # A bug, not a condition to handle: every setting of the schema says what it means.
        raise ValueError(f"settings.{name} has no description in config.schema")
    minimum = spec.get("minimum")
    if "exclusiveMinimum" in spec:
        minimum = spec["exclusiveMinimum"] + 1
    default = spec.get("default")
    return SettingField(
        name=name,
        description=description,
        kind=_kind(name, spec),
        required=required,
        default=list(default) if isinstance(default, tuple) else default,
        minimum=minimum,
        maximum=spec.get("maximum"),
        choices=spec.get("enum"),
        restart_required=f"settings.{name}" in RESTART_REQUIRED,
        variable=variable_of(name),
    )


def _kind(name: str, spec: dict[str, Any]) -> SettingKind:
    if name in KEY_SETTINGS:
        return "keys"
    if "enum" in spec:
        return "choice"
    kinds: dict[str, SettingKind] = {"integer": "integer", "boolean": "boolean", "array": "list"}
    return kinds.get(spec.get("type", ""), "text")
