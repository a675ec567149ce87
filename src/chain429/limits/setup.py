"""What the tracker takes from a config: provider traits, and the whole setup at once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from chain429.clock import UTC_ZONE
from chain429.config.schema import Config
from chain429.limits.cooldown import CooldownPolicy
from chain429.limits.manual import ManualLimits
from chain429.limits.probe import ProbeGate


@dataclass(frozen=True, slots=True)
class ProviderTraits:
    """What the tracker must know of a provider beyond its config."""

    keys_share_limits: bool = False
    zone: ZoneInfo = UTC_ZONE
    upstream: str = ""
    """Where its calls go (type and base URL): a provider moved to another upstream is another
    account, whose state starts over."""


NO_TRAITS = ProviderTraits()


@dataclass(frozen=True, slots=True)
class TrackerSetup:
    """What the tracker takes from one config (`router.plan.tracker_setup` works it out): the
    cooldown policy, each provider's traits and keys in order, the manual limits, the entries
    chains list, how many probes an entry whose limits are unknown takes (None: any number,
    no probing), and the longest an attempt may take (`attempt_s`: the request timeout, or a
    provider's longer `timeout`; a reservation shared with other replicas is a lease that must
    outlast it)."""

    policy: CooldownPolicy
    traits: Mapping[str, ProviderTraits] = field(default_factory=dict)
    limits: ManualLimits = field(default_factory=ManualLimits)
    listed: frozenset[tuple[str, str]] = frozenset()
    keys: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    probes: ProbeGate | None = None
    attempt_s: float = 0.0


def longest_attempt_s(config: Config) -> float:
    """The longest any attempt of `config` may take: the request timeout, or a provider's
    longer one."""
    timeouts = [p.timeout for p in config.providers if p.timeout is not None]
    return max([config.settings.request_timeout_ms, *timeouts]) / 1000
