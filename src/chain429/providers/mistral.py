"""Mistral: tokens per minute and per month, requests per minute on some models.

`x-ratelimit-{limit,remaining}-tokens-{minute,month}` and, for some models,
`x-ratelimit-{limit,remaining}-req-minute`: the window is in the name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from chain429.config.schema import ProviderType
from chain429.limits.metric import Metric
from chain429.providers.base import ProviderAdapter
from chain429.providers.header_families import windowed_family
from chain429.providers.header_view import HeaderView


@dataclass(frozen=True, slots=True)
class MistralAdapter(ProviderAdapter):
    """Mistral (La Plateforme)."""

    type: ClassVar[ProviderType] = ProviderType.MISTRAL

    def header_metrics(self, headers: HeaderView, now: float) -> list[Metric]:
        return windowed_family(headers, now)
