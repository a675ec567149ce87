"""GitHub Models: remaining counts on success; on a 429 a limit type and a long retry-after."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from chain429.config.schema import ProviderType
from chain429.providers.base import ProviderAdapter
from chain429.providers.dialects import Dialect


@dataclass(frozen=True, slots=True)
class GitHubModelsAdapter(ProviderAdapter):
    """GitHub Models. The reason of a 429's report is its `x-ratelimit-type`, e.g.
    `UserByModelByDay`, and its retry time the `retry-after` (often hours away)."""

    type: ClassVar[ProviderType] = ProviderType.GITHUB_MODELS
    dialect: ClassVar[Dialect] = Dialect.GITHUB_MODELS
