from __future__ import annotations

import importlib
import inspect
import pkgutil
from enum import Enum

import pytest

import chain429.providers
from chain429.config.schema import ProviderType
from chain429.limits.metric import MetricKind, Scope, Window
from chain429.providers.registry import ADAPTERS, adapter_for

REQUESTS, TOKENS = MetricKind.REQUESTS, MetricKind.TOKENS
MINUTE, DAY, UNKNOWN = Window.MINUTE, Window.DAY, Window.UNKNOWN
MODEL, ACCOUNT = Scope.MODEL, Scope.ACCOUNT

#: one metric of every header family, told apart by its limit
EVERY_FAMILY = {
    "x-ratelimit-limit-requests": "1",
    "x-ratelimit-limit-tokens": "5",
    "x-ratelimit-limit-requests-day": "2",
    "x-ratelimit-limit": "3",
    "x-tokenlimit-limit": "4",
}
UNKNOWN_DIALECT = {
    (REQUESTS, 1, UNKNOWN, MODEL),
    (TOKENS, 5, UNKNOWN, MODEL),
    (REQUESTS, 2, DAY, MODEL),
    (REQUESTS, 3, UNKNOWN, MODEL),
    (TOKENS, 4, UNKNOWN, MODEL),
}
READS = {
    ProviderType.OPENROUTER: {(REQUESTS, 3, UNKNOWN, ACCOUNT)},
    ProviderType.GROQ: {(REQUESTS, 1, DAY, MODEL), (TOKENS, 5, MINUTE, MODEL)},
    ProviderType.CEREBRAS: {(REQUESTS, 2, DAY, MODEL)},
    ProviderType.OPENAI: {(REQUESTS, 1, MINUTE, MODEL), (TOKENS, 5, MINUTE, MODEL)},
    ProviderType.GOOGLE_AI: set(),
    ProviderType.MISTRAL: {(REQUESTS, 2, DAY, MODEL)},
    ProviderType.GITHUB_MODELS: {(REQUESTS, 1, UNKNOWN, MODEL), (TOKENS, 5, UNKNOWN, MODEL)},
    ProviderType.NVIDIA_NIM: UNKNOWN_DIALECT,
    ProviderType.GENERIC_OPENAI: UNKNOWN_DIALECT,
}


@pytest.mark.parametrize("provider_type", list(ProviderType))
def test_every_type_has_its_adapter(provider_type: ProviderType) -> None:
    adapter = adapter_for(provider_type)
    assert adapter.type is provider_type
    assert adapter_for(provider_type) is adapter


@pytest.mark.parametrize("provider_type", list(ProviderType))
def test_each_provider_lives_in_the_module_named_for_its_type(
    provider_type: ProviderType,
) -> None:
    module = type(adapter_for(provider_type)).__module__
    assert module == f"chain429.providers.{provider_type.value.replace('-', '_')}"


@pytest.mark.parametrize("provider_type", list(ProviderType))
def test_each_type_reads_its_own_header_family(provider_type: ProviderType) -> None:
    metrics = adapter_for(provider_type).limit_report(EVERY_FAMILY, None, 0.0).metrics
    assert {(m.kind, m.limit, m.window, m.scope) for m in metrics} == READS[provider_type]


def test_provider_types_are_the_only_list_of_providers() -> None:
    """No enum in providers/ parallels `ProviderType` (a provider's dialect is its module)."""
    enums = []
    for info in pkgutil.iter_modules(chain429.providers.__path__):
        module = importlib.import_module(f"chain429.providers.{info.name}")
        enums += [
            f"{module.__name__}.{name}"
            for name, value in vars(module).items()
            if inspect.isclass(value) and issubclass(value, Enum)
            if value.__module__ == module.__name__
        ]
    assert enums == []


def test_flags() -> None:
    assert [t for t, a in ADAPTERS.items() if a.reserves_max_tokens] == [ProviderType.CEREBRAS]
    sharing = [t for t, a in ADAPTERS.items() if a.keys_share_org_limits]
    assert sharing == [ProviderType.OPENROUTER]
