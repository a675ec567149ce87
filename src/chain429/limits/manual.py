"""Manual limits from the config, for providers whose responses say nothing about limits.

Each manual limit is a local window: minute and hour windows start with their first request
and roll forward from there; day windows end at midnight in the provider's time zone (UTC
unless configured; Google AI Studio resets at midnight Pacific).

Which limits apply to a (provider, model) is settled once, from the whole config, by
`manual_limits`: a chain entry's `rateLimits` replace its provider's, and when one provider and
model appear in several chains, each limit is the smallest any of those entries sets.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from chain429.clock import Clock, next_day_start
from chain429.config.schema import Config, RateLimits
from chain429.limits.metric import MetricKind, Source, Window
from chain429.limits.state import WindowKey
from chain429.limits.window import NextReset, WindowState

_MANUAL_FIELDS = (
    ("requests_per_minute", MetricKind.REQUESTS, Window.MINUTE),
    ("requests_per_hour", MetricKind.REQUESTS, Window.HOUR),
    ("requests_per_day", MetricKind.REQUESTS, Window.DAY),
    ("tokens_per_minute", MetricKind.TOKENS, Window.MINUTE),
    ("tokens_per_day", MetricKind.TOKENS, Window.DAY),
)


def roller(window: Window, zone: ZoneInfo, clock: Clock | None = None) -> NextReset:
    if window is Window.DAY:
        return lambda now: next_day_start(now, zone, clock)
    length = window.seconds or 60.0
    return lambda now: now + length


def manual_windows(
    limits: RateLimits | None, zone: ZoneInfo, now: float, clock: Clock | None = None
) -> list[WindowState]:
    """Fresh local windows for every manual limit that is set (days found on `clock`)."""
    if limits is None:
        return []
    windows = []
    for name, kind, window in _MANUAL_FIELDS:
        limit = getattr(limits, name)
        if limit is not None:
            windows.append(_manual_window(kind, window, limit, zone, now, clock))
    return windows


def revise_manual_windows(
    windows: dict[WindowKey, WindowState],
    limits: RateLimits | None,
    zone: ZoneInfo,
    now: float,
    clock: Clock | None = None,
) -> list[WindowState]:
    """Make the manual windows among `windows` follow changed `limits`: a changed limit keeps
    what its window has used so far and when it resets; a limit no longer set loses its window;
    a new one gets a fresh window, returned so the requests in flight can be counted in it.
    Windows a provider's headers fed are the provider's figures and stay as they are."""
    added = []
    for name, kind, window in _MANUAL_FIELDS:
        limit = None if limits is None else getattr(limits, name)
        current = windows.get((kind, window))
        if current is None:
            if limit is not None:
                added.append(_manual_window(kind, window, limit, zone, now, clock))
                windows[(kind, window)] = added[-1]
        elif current.source is not Source.MANUAL:
            continue
        elif limit is None:
            del windows[(kind, window)]
        else:
            used = (current.limit or 0) - (current.remaining or 0)
            current.limit, current.remaining = limit, max(0, limit - used)
            current.next_reset = roller(window, zone, clock)
    return added


def _manual_window(
    kind: MetricKind, window: Window, limit: int, zone: ZoneInfo, now: float, clock: Clock | None
) -> WindowState:
    return WindowState(
        kind=kind,
        window=window,
        limit=limit,
        remaining=limit,
        reset_at=None,
        source=Source.MANUAL,
        updated_at=now,
        next_reset=roller(window, zone, clock),
    )


@dataclass(frozen=True, slots=True)
class ManualLimits:
    """The manual limits of every provider, and of every (provider, model) a chain lists."""

    providers: Mapping[str, RateLimits] = field(default_factory=dict)
    entries: Mapping[tuple[str, str], RateLimits] = field(default_factory=dict)

    def for_entry(self, provider_id: str, model: str) -> RateLimits | None:
        """What applies to `model` on `provider_id`; a model no chain lists (`provider/model`
        addressing) gets its provider's limits."""
        limits = self.entries.get((provider_id, model))
        return limits if limits is not None else self.providers.get(provider_id)


def manual_limits(config: Config) -> ManualLimits:
    """Resolve the manual limits of the config: an entry's own `rateLimits`, else its provider's;
    the stricter of them where one provider and model appear in several chains."""
    providers = {p.id: p.rate_limits for p in config.providers if p.rate_limits is not None}
    entries: dict[tuple[str, str], RateLimits] = {}
    for chain in config.chains:
        for entry in chain.entries:
            key = (entry.provider, entry.model)
            own = entry.rate_limits if entry.rate_limits is not None else providers.get(key[0])
            merged = stricter(entries.get(key), own)
            if merged is not None:
                entries[key] = merged
    return ManualLimits(providers, entries)


def stricter(a: RateLimits | None, b: RateLimits | None) -> RateLimits | None:
    """Every limit either sets, at the smaller value where both set it."""
    if a is None or b is None:
        return a if b is None else b
    merged: dict[str, int | None] = {}
    for name in RateLimits.model_fields:
        values = [v for v in (getattr(a, name), getattr(b, name)) if v is not None]
        merged[name] = min(values) if values else None
    return RateLimits.model_validate(merged)
