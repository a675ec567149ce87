"""Groq: OpenAI's header names, but `-requests` counts per DAY and `-tokens` per MINUTE.

Limits are per organisation and model. On every response: `x-ratelimit-{limit,remaining,reset}
-{requests,tokens}`, resets as duration strings (`2m59.56s`, `7.66s`, `1h2m3s`, `250ms`);
`retry-after` (seconds) only on a 429, whose message also says "Please try again in 12m41.376s"
(read by `retry_hints`, like any provider's).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from chain429.config.schema import ProviderType
from chain429.limits.metric import Metric, Window
from chain429.providers.base import ProviderAdapter
from chain429.providers.header_families import openai_family
from chain429.providers.header_view import HeaderView


@dataclass(frozen=True, slots=True)
class GroqAdapter(ProviderAdapter):
    """Groq (limits per organisation and model)."""

    type: ClassVar[ProviderType] = ProviderType.GROQ

    def header_metrics(self, headers: HeaderView, now: float) -> list[Metric]:
        return openai_family(headers, requests=Window.DAY, tokens=Window.MINUTE, now=now)
