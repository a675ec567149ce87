"""`config` events: what changed, by name, with versions, and never a key."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson

from chain429.admin.config_events import config_change, publish_config_change
from chain429.config.schema import Config
from chain429.config.version import config_version
from chain429.event_hub import EventHub, EventKind
from tests.support.configs import build_config, entries
from tests.support.key_leaks import PROVIDER_SECRET, SECOND_SECRET, leaks


def config(
    keys: dict[str, str] | None = None,
    chains: dict[str, list[tuple[str, str]]] | None = None,
    **settings: Any,
) -> Config:
    keys = keys or {"a": PROVIDER_SECRET, "b": SECOND_SECRET}
    providers = [{"id": p, "type": "groq", "apiKey": key} for p, key in keys.items()]
    chains = chains or {"default": [(p, "m") for p in keys]}
    return build_config(
        providers, {name: entries(*pairs) for name, pairs in chains.items()}, **settings
    )


def test_an_unchanged_config_changes_nothing():
    before = config()
    change = config_change(before, config())
    assert change["version"] == change["previousVersion"] == config_version(before)
    nothing = {"added": [], "removed": [], "changed": []}
    assert change == {**change, "providers": nothing, "chains": nothing, "settings": []}


def test_added_removed_and_changed_providers_chains_and_settings_are_named():
    before = config(chains={"default": [("a", "m")], "old": [("b", "m")]})
    after = config(
        keys={"a": PROVIDER_SECRET, "c": "sk-another-key-1234567890"},
        chains={"default": [("c", "m"), ("a", "m")], "new": [("a", "m")]},
        cooldownDefaultMs=1000,
        queueMode=True,
    )
    change = config_change(before, after)
    assert change["version"] == config_version(after) != change["previousVersion"]
    assert change["providers"] == {"added": ["c"], "removed": ["b"], "changed": []}
    assert change["chains"] == {"added": ["new"], "removed": ["old"], "changed": ["default"]}
    assert change["settings"] == ["cooldownDefaultMs", "queueMode"]


def test_a_changed_key_shows_as_its_provider_changed_and_never_as_the_key():
    before = config()
    after = config(
        keys={"a": PROVIDER_SECRET, "b": "gsk_NEWSECRET-987654321zyx"},
        apiKeys=["client-SECRET-key-mnop4321qrst"],
    )
    change = config_change(before, after)
    assert change["providers"]["changed"] == ["b"]
    assert change["settings"] == ["apiKeys"]
    data = orjson.dumps(change)
    assert not leaks({"config event": data})
    assert b"NEWSECRET" not in data


async def test_published_only_while_someone_listens():
    hub = EventHub()
    publish_config_change(hub, config(), config(queueMode=True))
    assert hub.last_id == 0
    subscription = hub.subscribe([EventKind.CONFIG])
    assert subscription is not None
    publish_config_change(hub, config(), config(queueMode=True))
    frames = await asyncio.wait_for(subscription.take(), 1)
    assert frames is not None and len(frames) == 1
    assert b"event: config\n" in frames[0] and b'"settings":["queueMode"]' in frames[0]
