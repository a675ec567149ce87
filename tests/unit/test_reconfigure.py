"""`changes`: what replacing one config with another changes, and which settings wait for a
restart. (`apply_config` on a running proxy: tests/integration/test_live_config.py.)"""

from __future__ import annotations

from typing import Any

from chain429.reconfigure import RESTART_REQUIRED, Applied, changes
from tests.support.configs import build_config, entries


def config(providers: dict[str, dict[str, Any]], chains: dict[str, list], **settings: Any):
    return build_config(
        [
            {"id": pid, "type": "groq", "apiKey": f"key-{pid}-0123456789", **p}
            for pid, p in providers.items()
        ],
        {name: entries(*pairs) for name, pairs in chains.items()},
        **settings,
    )


BASE = config({"a": {}, "b": {}}, {"main": [("a", "x"), ("b", "y")], "spare": [("b", "y")]})


def test_the_same_config_changes_nothing() -> None:
    assert changes(BASE, BASE) == Applied()
    assert not changes(BASE, BASE).changed


def test_providers_and_chains_added_removed_and_changed_are_named() -> None:
    new = config(
        {"a": {"timeout": 9000}, "c": {}},
        {"main": [("c", "z"), ("a", "x")], "extra": [("a", "x")]},
    )
    applied = changes(BASE, new)
    assert (applied.providers_added, applied.providers_removed) == (("c",), ("b",))
    assert applied.providers_changed == ("a",)
    assert (applied.chains_added, applied.chains_removed) == (("extra",), ("spare",))
    assert applied.chains_changed == ("main",)
    assert applied.settings_changed == applied.restart_required == ()
    assert applied.changed


def test_a_key_change_is_a_provider_change() -> None:
    new = config(
        {"a": {"apiKey": "key-a-new-987654"}, "b": {}},
        {"main": [("a", "x"), ("b", "y")], "spare": [("b", "y")]},
    )
    assert changes(BASE, new).providers_changed == ("a",)


def test_settings_are_named_by_field_path_and_those_read_at_startup_need_a_restart() -> None:
    new = BASE.model_copy(
        update={
            "settings": BASE.settings.model_copy(
                update={"queue_mode": True, "port": 4000, "db_path": "other.db"}
            )
        }
    )
    applied = changes(BASE, new)
    assert applied.settings_changed == ("settings.port", "settings.dbPath", "settings.queueMode")
    assert applied.restart_required == ("settings.port", "settings.dbPath")
    assert all(path.startswith("settings.") for path in RESTART_REQUIRED)


def test_the_settings_access_follows_live_need_no_restart() -> None:
    live = {"apiKeys", "adminKeys", "corsOrigins", "metricsPublic"}
    assert not {f"settings.{name}" for name in live} & RESTART_REQUIRED
