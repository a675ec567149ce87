"""GitHub Models: remaining counts on success; on a 429 a limit type and a long retry-after.

`x-ratelimit-remaining-{requests,tokens}` (OpenAI's names, no window stated). A 429 carries
`x-ratelimit-type` (e.g. `UserByModelByDay`), which `ProviderAdapter.header_report` makes the
report's reason, a `retry-after` in seconds (often hours away), and a message such as "Please
wait 40000 seconds before retrying" (read by `retry_hints`).
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
class GitHubModelsAdapter(ProviderAdapter):
    """GitHub Models. The reason of a 429's report is its `x-ratelimit-type`, e.g.
    `UserByModelByDay`, and its retry time the `retry-after` (often hours away)."""

    type: ClassVar[ProviderType] = ProviderType.GITHUB_MODELS

    def header_metrics(self, headers: HeaderView, now: float) -> list[Metric]:
        return openai_family(headers, requests=Window.UNKNOWN, tokens=Window.UNKNOWN, now=now)
