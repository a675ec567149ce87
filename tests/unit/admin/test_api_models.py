"""The management API's models keep up with the config schema, and what a client reads it can
write back unchanged (labels sent back are ignored, never taken for keys)."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from chain429.admin.api_models import (
    ChainBody,
    NewChainBody,
    ProviderBody,
    SettingsPatch,
    SettingsView,
)
from chain429.admin.config_views import chain_view, provider_view, settings_view
from chain429.config.schema import ProviderConfig, Settings
from tests.support.configs import build_config, entries

LABELS = {"api_key_labels", "admin_key_labels"}
KEYS = {"api_keys", "admin_keys"}


def names(model: type[BaseModel]) -> set[str]:
    return set(model.model_fields)


def test_the_settings_view_shows_every_setting_and_keys_as_labels_only() -> None:
    assert names(SettingsView) == names(Settings) - KEYS | LABELS


def test_the_settings_patch_may_change_every_setting() -> None:
    assert names(SettingsPatch) == names(Settings) | LABELS


def test_the_provider_body_has_every_provider_field() -> None:
    assert names(ProviderBody) == names(ProviderConfig) | {"keys"}


@pytest.mark.parametrize("field", sorted(names(Settings) - KEYS))
def test_a_patch_field_has_the_schema_field_constraints(field: str) -> None:
    """Type, bounds and choices of each setting are the schema's; its default is accepted."""
    setting = Settings.model_fields[field]
    if not setting.is_required():
        default = setting.get_default()
        patched = getattr(SettingsPatch.model_validate({field: default}), field)
        assert patched == (list(default) if isinstance(default, tuple) else default)
    schema = Settings.model_json_schema(by_alias=True)["properties"]
    patch = SettingsPatch.model_json_schema(by_alias=True)["properties"]
    alias = Settings.model_fields[field].serialization_alias or field
    assert _bounds(schema[alias]) == _bounds(patch[alias]), field


def _bounds(schema: dict) -> dict:
    branch = next((b for b in schema.get("anyOf", [schema]) if b.get("type") != "null"), schema)
    kept = ("type", "minimum", "maximum", "exclusiveMinimum", "enum", "minLength", "items")
    return {k: branch[k] for k in kept if k in branch}


CONFIG = build_config(
    [{"id": "p", "type": "groq", "apiKeys": ["sk-first-key-1234", "sk-second-key-5678"]}],
    {"c": entries(("p", "m1"), ("p", "m2"))},
    adminKeys=["adm-admin-key-9999"],
)


def test_a_provider_read_is_a_valid_body_that_carries_no_key() -> None:
    shown = provider_view(CONFIG.providers[0], CONFIG).model_dump(mode="json", by_alias=True)
    body = ProviderBody.model_validate(shown)
    assert body.api_key is None and body.api_keys is None, "keys left out: the provider keeps its"
    assert [k.label for k in body.keys or []] == ["…1234", "…5678"]


def test_a_chain_read_is_a_valid_body() -> None:
    chain = CONFIG.chains[0]
    shown = chain_view(chain, "c").model_dump(mode="json", by_alias=True)
    body = ChainBody.model_validate(shown)
    assert tuple(body.entries) == chain.entries and body.name == "c"


def test_the_settings_read_is_a_valid_patch_that_carries_no_key() -> None:
    shown = settings_view(CONFIG.settings).model_dump(mode="json", by_alias=True)
    patch = SettingsPatch.model_validate(shown)
    assert patch.api_keys is None and patch.admin_keys is None
    assert patch.admin_key_labels == ["…9999"]


@pytest.mark.parametrize(
    ("model", "data"),
    [
        (ChainBody, {"entries": []}),
        (ChainBody, {"entries": [{"provider": "p"}]}),
        (NewChainBody, {"entries": [{"provider": "p", "model": "m"}]}),
        (ProviderBody, {"id": "p", "type": "groqq"}),
        (ProviderBody, {"id": "p", "type": "groq", "apiKey": ""}),
        (ProviderBody, {"id": "p", "type": "groq", "timeout": 5}),
        (ProviderBody, {"id": "p", "type": "groq", "keysShareLimits": "yes"}),
        (ProviderBody, {"id": "p", "type": "groq", "apikey": "k"}),
        (SettingsPatch, {"queueMode": "true"}),
        (SettingsPatch, {"requestTimeoutMs": 1}),
        (SettingsPatch, {"defaultChian": "x"}),
    ],
)
def test_bodies_refuse_what_the_config_would(model: type[BaseModel], data: dict) -> None:
    with pytest.raises(ValidationError):
        model.model_validate(data)
