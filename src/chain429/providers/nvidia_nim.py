"""NVIDIA NIM (API catalog): no documented rate-limit headers, so every family is tried."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from chain429.config.schema import ProviderType
from chain429.providers.base import ProviderAdapter
from chain429.providers.dialects import Dialect


@dataclass(frozen=True, slots=True)
class NvidiaNimAdapter(ProviderAdapter):
    """NVIDIA NIM."""

    type: ClassVar[ProviderType] = ProviderType.NVIDIA_NIM
    dialect: ClassVar[Dialect] = Dialect.AUTO
