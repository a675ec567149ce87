"""OpenAI: the reference dialect, requests and tokens per minute.

`x-ratelimit-{limit,remaining,reset}-{requests,tokens}`, resets as durations (`6m0s`, `1s`,
`20ms`). Many compatible servers copy these names; `generic_openai` reads them too.
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
class OpenAIAdapter(ProviderAdapter):
    """OpenAI."""

    type: ClassVar[ProviderType] = ProviderType.OPENAI

    def header_metrics(self, headers: HeaderView, now: float) -> list[Metric]:
        return openai_family(headers, requests=Window.MINUTE, tokens=Window.MINUTE, now=now)
