from __future__ import annotations

import pytest

from chain429.config.schema import ProviderType
from chain429.providers.dialects import Dialect
from chain429.providers.registry import ADAPTERS, adapter_for


@pytest.mark.parametrize("provider_type", list(ProviderType))
def test_every_type_has_its_adapter(provider_type: ProviderType) -> None:
    adapter = adapter_for(provider_type)
    assert adapter.type is provider_type
    assert adapter_for(provider_type) is adapter


def test_dialects_and_flags() -> None:
    expected = {
        ProviderType.OPENROUTER: Dialect.OPENROUTER,
        ProviderType.GROQ: Dialect.GROQ,
        ProviderType.CEREBRAS: Dialect.CEREBRAS,
        ProviderType.OPENAI: Dialect.OPENAI,
        ProviderType.GOOGLE_AI: Dialect.GENERIC,
        ProviderType.MISTRAL: Dialect.MISTRAL,
        ProviderType.GITHUB_MODELS: Dialect.GITHUB_MODELS,
        ProviderType.NVIDIA_NIM: Dialect.AUTO,
        ProviderType.GENERIC_OPENAI: Dialect.AUTO,
    }
    assert {t: a.dialect for t, a in ADAPTERS.items()} == expected
    assert [t for t, a in ADAPTERS.items() if a.reserves_max_tokens] == [ProviderType.CEREBRAS]
    sharing = [t for t, a in ADAPTERS.items() if a.keys_share_org_limits]
    assert sharing == [ProviderType.OPENROUTER]
