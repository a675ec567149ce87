"""Cerebras: windowed headers, up-front token reservation, and fields it rejects."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from chain429.config.schema import ProviderType
from chain429.providers.base import ProviderAdapter
from chain429.providers.dialects import Dialect

UNSUPPORTED_FIELDS = frozenset(
    {"frequency_penalty", "presence_penalty", "logit_bias", "parallel_tool_calls", "service_tier"}
)
"""OpenAI fields Cerebras answers with a 400, per its OpenAI-compatibility notes. Kept to the
documented list: anything else is forwarded, and a rejection moves the request to the next entry.
"""


@dataclass(frozen=True, slots=True)
class CerebrasAdapter(ProviderAdapter):
    """Cerebras. It reserves `max_completion_tokens` against the token limit up front, so a large
    `max_tokens` can 429 on its own (PROVIDERS.md)."""

    type: ClassVar[ProviderType] = ProviderType.CEREBRAS
    dialect: ClassVar[Dialect] = Dialect.CEREBRAS
    reserves_max_tokens: ClassVar[bool] = True

    def prepare(self, body: Mapping[str, Any], model: str) -> dict[str, Any]:
        if UNSUPPORTED_FIELDS.isdisjoint(body):
            return {**body, "model": model}
        prepared = {k: v for k, v in body.items() if k not in UNSUPPORTED_FIELDS}
        prepared["model"] = model
        return prepared
