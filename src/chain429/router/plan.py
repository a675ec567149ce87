"""Everything about calling one provider that can be worked out once, at startup."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from chain429.config.schema import Config, ProviderConfig, ProviderType, Settings
from chain429.limits.manual import manual_limits
from chain429.limits.probe import ProbeGate
from chain429.limits.setup import ProviderTraits, TrackerSetup, longest_attempt_s
from chain429.limits.tracker import Demand, policy_from
from chain429.limits.transient import listed_entries
from chain429.providers.base import ProviderAdapter
from chain429.providers.registry import adapter_for
from chain429.router.request import ClientRequest, Endpoint
from chain429.router.upstream import Timeouts

CONNECT_TIMEOUT_S = 10.0

#: Where a provider's daily quotas reset, when the config does not say (PROVIDERS.md).
DAILY_RESET_ZONES = {ProviderType.GOOGLE_AI: "America/Los_Angeles"}


@dataclass(frozen=True, slots=True)
class ProviderPlan:
    """A provider's adapter, URLs, per-key headers and timeouts, and the largest whole answer
    it may give, hoisted off the request path."""

    provider: ProviderConfig
    adapter: ProviderAdapter
    urls: dict[Endpoint, str]
    headers: tuple[dict[str, str], ...]
    timeout_s: float
    call_timeouts: Timeouts
    stream_timeouts: Timeouts
    max_answer_bytes: int

    def demand(self, request: ClientRequest) -> Demand:
        """What `request` will draw from this provider's limits: its estimated prompt tokens,
        plus its `max_tokens` where the provider counts them on admission."""
        tokens = request.estimated_tokens
        if self.adapter.reserves_max_tokens and request.max_tokens:
            tokens += request.max_tokens
        return Demand(tokens)


def build_plans(config: Config) -> dict[str, ProviderPlan]:
    return {p.id: plan_for(p, config.settings) for p in config.providers}


def plan_for(provider: ProviderConfig, settings: Settings) -> ProviderPlan:
    """The plan of one provider under `settings`."""
    idle_s = settings.stream_idle_timeout_ms / 1000
    adapter = adapter_for(provider.type)
    timeout_s = (provider.timeout or settings.request_timeout_ms) / 1000
    connect_s = min(CONNECT_TIMEOUT_S, timeout_s)
    return ProviderPlan(
        provider=provider,
        adapter=adapter,
        urls={e: adapter.url(provider, e.value) for e in Endpoint},
        headers=tuple(adapter.headers(provider, key) for key in provider.keys),
        timeout_s=timeout_s,
        call_timeouts=Timeouts(connect_s=connect_s, read_s=None),
        stream_timeouts=Timeouts(connect_s=connect_s, read_s=max(idle_s, timeout_s)),
        max_answer_bytes=settings.max_response_bytes,
    )


def build_traits(config: Config) -> dict[str, ProviderTraits]:
    """Per provider: whether its keys share one set of limits, and its daily reset zone."""
    traits = {}
    for provider in config.providers:
        adapter = adapter_for(provider.type)
        shared = provider.keys_share_limits
        zone = provider.daily_reset_timezone or DAILY_RESET_ZONES.get(provider.type, "UTC")
        traits[provider.id] = ProviderTraits(
            keys_share_limits=adapter.keys_share_org_limits if shared is None else shared,
            zone=ZoneInfo(zone),
            upstream=f"{provider.type.value} {provider.resolved_base_url}",
        )
    return traits


def tracker_setup(config: Config) -> TrackerSetup:
    """What the limit tracker takes from `config`, at startup and at every change."""
    return TrackerSetup(
        policy=policy_from(config.settings),
        traits=build_traits(config),
        limits=manual_limits(config),
        listed=listed_entries(config),
        keys={p.id: p.keys for p in config.providers},
        probes=ProbeGate(config.settings.probe_concurrency),
        attempt_s=longest_attempt_s(config),
    )
