"""Any OpenAI-compatible server at a configured `baseUrl`: every header family is tried."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from chain429.config.schema import ProviderType
from chain429.providers.base import ProviderAdapter
from chain429.providers.dialects import Dialect


@dataclass(frozen=True, slots=True)
class GenericOpenAIAdapter(ProviderAdapter):
    """A generic OpenAI-compatible server (vLLM, LM Studio, Together, DeepSeek, ...)."""

    type: ClassVar[ProviderType] = ProviderType.GENERIC_OPENAI
    dialect: ClassVar[Dialect] = Dialect.AUTO
