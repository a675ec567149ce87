"""Cerebras: windowed headers, up-front token reservation, and fields it rejects.

Limits are per organisation and model, the window in the header name:
`x-ratelimit-{limit,remaining,reset}-requests-day`, `...-tokens-minute`, resets in float seconds
until the reset (`33011.38`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from chain429.config.schema import ProviderType
from chain429.limits.metric import Metric
from chain429.providers.base import ProviderAdapter
from chain429.providers.header_families import windowed_family
from chain429.providers.header_view import HeaderView

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
    reserves_max_tokens: ClassVar[bool] = True

    def header_metrics(self, headers: HeaderView, now: float) -> list[Metric]:
        return windowed_family(headers, now)

    def prepare(self, body: Mapping[str, Any], model: str) -> dict[str, Any]:
        if UNSUPPORTED_FIELDS.isdisjoint(body):
            return {**body, "model": model}
        prepared = {k: v for k, v in body.items() if k not in UNSUPPORTED_FIELDS}
        prepared["model"] = model
        return prepared
