"""NVIDIA NIM (API catalog): no documented rate-limit headers, so it is read like a server of
unknown dialect (`generic_openai.every_family`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from chain429.config.schema import ProviderType
from chain429.limits.metric import Metric
from chain429.providers.base import ProviderAdapter
from chain429.providers.generic_openai import every_family
from chain429.providers.header_view import HeaderView


@dataclass(frozen=True, slots=True)
class NvidiaNimAdapter(ProviderAdapter):
    """NVIDIA NIM."""

    type: ClassVar[ProviderType] = ProviderType.NVIDIA_NIM

    def header_metrics(self, headers: HeaderView, now: float) -> list[Metric]:
        return every_family(headers, now)
