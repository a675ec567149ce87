"""`config` events: what a configuration change changed, by name, never by value.

The event names the providers, chains and settings that differ and the configuration's version
before and after (the `ETag` of `GET /api/config`, see `config.version`). It carries no value:
a key never appears, and a changed key shows only as its provider being `changed`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chain429.config.schema import Config, Settings
from chain429.config.version import config_version
from chain429.event_hub import EventHub, EventKind


def publish_config_change(hub: EventHub, old: Config, new: Config) -> None:
    """Publish a `config` event for the change from `old` to `new` (the running configuration
    before and after a change was applied), if anyone listens."""
    if hub.wants(EventKind.CONFIG):
        hub.publish(EventKind.CONFIG, config_change(old, new))


def config_change(old: Config, new: Config) -> dict[str, Any]:
    """The `config` event's data: versions, and the names of what was added, removed or
    changed."""
    return {
        "version": config_version(new),
        "previousVersion": config_version(old),
        "providers": _compare({p.id: p for p in old.providers}, {p.id: p for p in new.providers}),
        "chains": _compare({c.name: c for c in old.chains}, {c.name: c for c in new.chains}),
        "settings": _changed_settings(old.settings, new.settings),
    }


def _compare(old: Mapping[str, object], new: Mapping[str, object]) -> dict[str, list[str]]:
    return {
        "added": [name for name in new if name not in old],
        "removed": [name for name in old if name not in new],
        "changed": [name for name in new if name in old and old[name] != new[name]],
    }


def _changed_settings(old: Settings, new: Settings) -> list[str]:
    return [
        field.serialization_alias or name
        for name, field in Settings.model_fields.items()
        if getattr(old, name) != getattr(new, name)
    ]
