"""Groq: OpenAI-style headers where `-requests` counts per day and `-tokens` per minute."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from chain429.config.schema import ProviderType
from chain429.providers.base import ProviderAdapter
from chain429.providers.dialects import Dialect


@dataclass(frozen=True, slots=True)
class GroqAdapter(ProviderAdapter):
    """Groq (limits per organisation and model)."""

    type: ClassVar[ProviderType] = ProviderType.GROQ
    dialect: ClassVar[Dialect] = Dialect.GROQ
