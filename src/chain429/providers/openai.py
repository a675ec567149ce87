"""OpenAI: the reference dialect, requests and tokens per minute."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from chain429.config.schema import ProviderType
from chain429.providers.base import ProviderAdapter
from chain429.providers.dialects import Dialect


@dataclass(frozen=True, slots=True)
class OpenAIAdapter(ProviderAdapter):
    """OpenAI."""

    type: ClassVar[ProviderType] = ProviderType.OPENAI
    dialect: ClassVar[Dialect] = Dialect.OPENAI
