"""The running configuration as the management API shows it: pure functions from the config's
models to the API's answers, keys and provider header values replaced by their labels."""

from __future__ import annotations

from typing import Any, Final

from chain429.admin.api_models import (
    ChainView,
    ConfigView,
    KeyLabel,
    ProviderView,
    SettingsView,
)
from chain429.config.keys import header_label, is_secret_header, key_label
from chain429.config.schema import Chain, Config, ProviderConfig, Settings, shown_url
from chain429.redaction import Redactor

#: What the original 429chain shows in place of a key (and this proxy of a credential header's
#: value).
MASK: Final = "***"


def labels(keys: tuple[str, ...]) -> list[str]:
    return [key_label(key, i) for i, key in enumerate(keys)]


def secret_headers(provider: ProviderConfig, config: Config) -> frozenset[str]:
    """The names of `provider`'s headers whose values answers never show: those that carry a
    credential by name, and any whose value holds a key of `config` or looks like one (an
    `X-Ref: ${GROQ_API_KEY}`)."""
    redactor = Redactor(config.secrets())
    return frozenset(
        name
        for name, value in provider.headers.items()
        if is_secret_header(name) or redactor.redact(value) != value
    )


def provider_view(provider: ProviderConfig, config: Config) -> ProviderView:
    hidden = secret_headers(provider, config) if provider.headers else frozenset()
    return ProviderView(
        id=provider.id,
        name=provider.name,
        type=provider.type,
        keys=[KeyLabel(label=label) for label in labels(provider.keys)],
        base_url=provider.base_url,
        timeout=provider.timeout,
        rate_limits=provider.rate_limits,
        headers={
            name: header_label(value) if name in hidden else value
            for name, value in provider.headers.items()
        },
        keys_share_limits=provider.keys_share_limits,
        daily_reset_timezone=provider.daily_reset_timezone,
    )


def chain_view(chain: Chain, default_chain: str) -> ChainView:
    return ChainView(
        name=chain.name, entries=list(chain.entries), is_default=chain.name == default_chain
    )


def settings_view(settings: Settings) -> SettingsView:
    fields = settings.model_dump(exclude={"api_keys", "admin_keys"})
    if settings.database is not None:
        fields["database"] = shown_url(settings.database)
    fields["state_store"] = shown_url(settings.state_store)
    return SettingsView(
        **fields,
        api_key_labels=labels(settings.api_keys),
        admin_key_labels=labels(settings.admin_keys),
    )


def config_view(config: Config) -> ConfigView:
    default = config.settings.default_chain
    return ConfigView(
        version=config.version,
        settings=settings_view(config.settings),
        providers=[provider_view(p, config) for p in config.providers],
        chains=[chain_view(c, default) for c in config.chains],
    )


def original_config(config: Config) -> dict[str, Any]:
    """`GET /v1/admin/config` as the original 429chain answers it."""
    return {
        "providers": [original_provider(p, config) for p in config.providers],
        "chains": [
            c.model_dump(mode="json", by_alias=True, exclude_none=True) for c in config.chains
        ],
    }


def original_provider(provider: ProviderConfig, config: Config) -> dict[str, Any]:
    """A provider as the original 429chain shows it: its keys, and its header values, as
    `***`."""
    shown = provider.model_dump(
        mode="json", by_alias=True, exclude_none=True, exclude={"api_key", "api_keys"}
    )
    if provider.headers:
        hidden = secret_headers(provider, config)
        shown["headers"] = {
            name: MASK if name in hidden else value for name, value in provider.headers.items()
        }
    else:
        shown.pop("headers", None)
    shown["apiKey"] = MASK
    if provider.api_keys:
        shown["apiKeys"] = [MASK for _ in provider.api_keys]
    return shown
