"""Mistral: tokens per minute and per month, requests per minute on some models."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from chain429.config.schema import ProviderType
from chain429.providers.base import ProviderAdapter
from chain429.providers.dialects import Dialect


@dataclass(frozen=True, slots=True)
class MistralAdapter(ProviderAdapter):
    """Mistral (La Plateforme)."""

    type: ClassVar[ProviderType] = ProviderType.MISTRAL
    dialect: ClassVar[Dialect] = Dialect.MISTRAL
