"""Any OpenAI-compatible server at a configured `baseUrl` (vLLM, LM Studio, Together, DeepSeek,
...): its dialect is unknown, so every `x-ratelimit` family is read, windows only where named.

Among them, Together AI's, per its rate-limit documentation: `x-ratelimit-{limit,remaining}`
(requests), `x-ratelimit-reset` (seconds until the request limit resets) and
`x-tokenlimit-{limit,remaining}` (tokens), its limits counted per second. A server of unknown
dialect may use the unsuffixed names for any window, so they are read with none.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from chain429.config.schema import ProviderType
from chain429.limits.metric import Metric, MetricKind, Window
from chain429.providers.base import ProviderAdapter
from chain429.providers.header_families import (
    header_names,
    limit_metric,
    openai_family,
    reset_instant,
    windowed_family,
)
from chain429.providers.header_view import HeaderView

_REQUESTS = header_names("")
_TOKENS = header_names("", prefix="x-tokenlimit")


def every_family(headers: HeaderView, now: float) -> list[Metric]:
    """For servers of unknown dialect: OpenAI's names, names ending in their window, and the
    unsuffixed `x-ratelimit-*` / `x-tokenlimit-*`; windows only where the name states one."""
    reset = reset_instant(now)
    return [
        *openai_family(headers, requests=Window.UNKNOWN, tokens=Window.UNKNOWN, now=now),
        *windowed_family(headers, now),
        *limit_metric(headers, _REQUESTS, MetricKind.REQUESTS, Window.UNKNOWN, reset),
        *limit_metric(headers, _TOKENS, MetricKind.TOKENS, Window.UNKNOWN, reset),
    ]


@dataclass(frozen=True, slots=True)
class GenericOpenAIAdapter(ProviderAdapter):
    """A generic OpenAI-compatible server (its `baseUrl` is required by the config)."""

    type: ClassVar[ProviderType] = ProviderType.GENERIC_OPENAI

    def header_metrics(self, headers: HeaderView, now: float) -> list[Metric]:
        return every_family(headers, now)
