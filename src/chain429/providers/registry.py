"""The adapter for each provider type."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from chain429.config.schema import ProviderType
from chain429.providers.base import ProviderAdapter
from chain429.providers.cerebras import CerebrasAdapter
from chain429.providers.generic_openai import GenericOpenAIAdapter
from chain429.providers.github_models import GitHubModelsAdapter
from chain429.providers.google_ai import GoogleAIAdapter
from chain429.providers.groq import GroqAdapter
from chain429.providers.mistral import MistralAdapter
from chain429.providers.nvidia_nim import NvidiaNimAdapter
from chain429.providers.openai import OpenAIAdapter
from chain429.providers.openrouter import OpenRouterAdapter

ADAPTERS: Mapping[ProviderType, ProviderAdapter] = MappingProxyType(
    {
        adapter.type: adapter
        for adapter in (
            OpenRouterAdapter(),
            GroqAdapter(),
            CerebrasAdapter(),
            OpenAIAdapter(),
            GoogleAIAdapter(),
            MistralAdapter(),
            GitHubModelsAdapter(),
            NvidiaNimAdapter(),
            GenericOpenAIAdapter(),
        )
    }
)
"""One stateless adapter per provider type (the instances are immutable and hold nothing)."""


def adapter_for(provider_type: ProviderType) -> ProviderAdapter:
    """The adapter for `provider_type`; every `ProviderType` has one."""
    return ADAPTERS[provider_type]
