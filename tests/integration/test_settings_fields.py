"""`GET /api/settings/fields`: every setting with its meaning (the config schema's description),
kind, bounds, default and restart flag, and whether a write could be saved now: a writable
file, a read-only file, no file, no admin keys."""

from __future__ import annotations

import errno
from dataclasses import replace
from pathlib import Path

import pytest
from pydantic.alias_generators import to_camel

from chain429.admin.api_models import SettingsView
from chain429.admin.settings_fields import (
    KEY_SETTINGS,
    _field,
    setting_fields,
)
from chain429.app import AppOptions
from chain429.config.save import LOCAL_FILES
from chain429.config.schema import Settings
from chain429.reconfigure import RESTART_REQUIRED
from tests.support.config_file import A_KEY, KEY_VARIABLE, api, start_file_proxy, write_config
from tests.support.proxy import CLIENT_KEY, make_config
from tests.support.upstream import ok


@pytest.fixture
def config_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(KEY_VARIABLE, A_KEY)
    return write_config(tmp_path, "http://127.0.0.1:9/v1")


async def test_every_setting_is_listed_with_its_meaning_kind_and_default(
    proxy_factory, http, config_path
) -> None:
    server = await start_file_proxy(proxy_factory, config_path)
    answer = await api(http, server, "GET", "/api/settings/fields")
    assert answer.status == 200
    body = answer.json()
    assert (body["writable"], body["readOnlyReason"]) == (True, None)
    fields = {f["name"]: f for f in body["fields"]}
    assert list(fields) == [to_camel(name) for name in Settings.model_fields]
    assert all(f["description"] for f in fields.values())
    assert fields["port"] | {"description": ""} == {
        "name": "port",
        "description": "",
        "kind": "integer",
        "required": False,
        "default": 3429,
        "minimum": 0,
        "maximum": 65535,
        "choices": None,
        "restartRequired": True,
        "variable": "CHAIN429_PORT",
        "setByEnvironment": False,
    }
    assert fields["logLevel"]["kind"] == "choice" and "debug" in fields["logLevel"]["choices"]
    assert fields["queueMode"]["kind"] == "boolean" and fields["queueMode"]["default"] is False
    assert fields["corsOrigins"]["kind"] == "list" and fields["corsOrigins"]["default"] == []
    assert fields["probeConcurrency"]["minimum"] == 1
    assert fields["defaultChain"]["required"] and fields["defaultChain"]["default"] is None
    assert {n for n, f in fields.items() if f["kind"] == "keys"} == KEY_SETTINGS
    restart = {f"settings.{n}" for n, f in fields.items() if f["restartRequired"]}
    assert restart == RESTART_REQUIRED


async def test_a_setting_the_environment_gives_is_marked_with_its_variable(
    proxy_factory, http, config_path, monkeypatch
) -> None:
    monkeypatch.setenv("CHAIN429_PORT", "4999")
    server = await start_file_proxy(proxy_factory, config_path)
    fields = {
        f["name"]: f
        for f in (await api(http, server, "GET", "/api/settings/fields")).json()["fields"]
    }
    assert (fields["port"]["variable"], fields["port"]["setByEnvironment"]) == (
        "CHAIN429_PORT",
        True,
    )
    assert (fields["host"]["variable"], fields["host"]["setByEnvironment"]) == (
        "CHAIN429_HOST",
        False,
    )
    assert (fields["queueMode"]["variable"], fields["queueMode"]["setByEnvironment"]) == (
        None,
        False,
    )


def test_the_fields_cover_every_setting_the_api_shows() -> None:
    """A setting of the schema that the settings answer shows is listed, and the other way
    round (the keys appear in the answer as their labels)."""
    shown = {to_camel(name) for name in SettingsView.model_fields}
    shown = shown - {"apiKeyLabels", "adminKeyLabels"} | KEY_SETTINGS
    assert {f.name for f in setting_fields()} == shown


def test_a_setting_without_a_description_is_refused() -> None:
    with pytest.raises(ValueError, match="settings.newThing"):
        _field("newThing", {"type": "integer", "default": 1}, required=False)


async def test_a_read_only_file_says_so_before_any_write(proxy_factory, http, config_path) -> None:
    def read_only(_path: Path) -> None:
        raise OSError(errno.EROFS, "Read-only file system", str(_path))

    options = AppOptions(config_files=replace(LOCAL_FILES, probe=read_only))
    server = await start_file_proxy(proxy_factory, config_path, options)
    body = (await api(http, server, "GET", "/api/settings/fields")).json()
    assert body["writable"] is False
    assert "is read-only" in body["readOnlyReason"] and ":ro" in body["readOnlyReason"]


async def test_a_proxy_without_a_file_says_so(upstream_factory, proxy_factory, http) -> None:
    upstream = await upstream_factory(ok())
    server = await proxy_factory(make_config([("a", upstream.base_url)], admin=True))
    body = (await api(http, server, "GET", "/api/settings/fields")).json()
    assert body["writable"] is False
    assert body["readOnlyReason"].startswith("This proxy was started from a configuration object")


async def test_without_admin_keys_writes_are_off(upstream_factory, proxy_factory, http) -> None:
    upstream = await upstream_factory(ok())
    server = await proxy_factory(make_config([("a", upstream.base_url)]))
    body = (await api(http, server, "GET", "/api/settings/fields", key=CLIENT_KEY)).json()
    assert body["writable"] is False
    assert "settings.adminKeys is empty" in body["readOnlyReason"]


async def test_the_openapi_document_carries_each_settings_meaning(
    proxy_factory, http, config_path
) -> None:
    server = await start_file_proxy(proxy_factory, config_path)
    document = (await api(http, server, "GET", "/api/openapi.json")).json()
    schemas = document["components"]["schemas"]
    for model in ("SettingsView", "SettingsPatch"):
        properties = schemas[model]["properties"]
        for name, info in Settings.model_fields.items():
            if to_camel(name) in properties:
                assert properties[to_camel(name)]["description"] == info.description, name
    assert schemas["SettingsView"]["properties"]["probeWaitMs"]["description"].startswith(
        "How long other requests wait"
    )
