"""What each configured chain would do now: the entry a request would be served by, or when
one frees up, and how many requests wait in its queue.

The entries are read in the waterfall's order (`router.waterfall.Waterfall._pass`): the first
one admission would take now is the one a request would use. It is read from the status views
(`limits.status.entry_views`), which never change the state (asking the tracker's
`available_at` would refill expired windows: a read of `/api/ratelimits` must not). An entry
can serve when one of its provider's keys is available or tracking; a key frees up when its
cooldown and its exhausted request windows have all passed; a key set aside (a 401, a refused
model) or a window with no known reset frees up by no time of its own. An entry whose provider
is gone is passed over.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chain429.config.schema import Config
from chain429.limits.metric import MetricKind
from chain429.limits.status import EntryView

_SERVING = frozenset({"available", "tracking"})


def chain_outlooks(
    config: Config, views: list[EntryView], depths: Mapping[str, int]
) -> list[dict[str, Any]]:
    """Per configured chain, in configuration order, as `/api/ratelimits` shows it: `next` the
    entry a request would use now (or None), `freeAt` (epoch ms) when the soonest entry frees
    up if none can serve now (None when one can, or when none will by itself)."""
    by_entry: dict[tuple[str, str], list[EntryView]] = {}
    for view in views:
        by_entry.setdefault((view.provider, view.model), []).append(view)
    outlooks = []
    for chain in config.chains:
        next_entry: dict[str, str] | None = None
        soonest: float | None = None
        for entry in chain.entries:
            keys = by_entry.get((entry.provider, entry.model), [])
            if any(view.status in _SERVING for view in keys):
                next_entry = {"provider": entry.provider, "model": entry.model}
                break
            for at in (_frees_at(view) for view in keys):
                if at is not None and (soonest is None or at < soonest):
                    soonest = at
        outlooks.append(
            {
                "name": chain.name,
                "isDefault": chain.name == config.settings.default_chain,
                "queued": depths.get(chain.name, 0),
                "next": next_entry,
                "freeAt": None if next_entry or soonest is None else round(soonest * 1000),
            }
        )
    return outlooks


def _frees_at(view: EntryView) -> float | None:
    """When one key that cannot serve now may again: None when not by itself."""
    if view.disabled is not None:
        return None
    times = [] if view.cooldown_until is None else [view.cooldown_until]
    for window in view.windows:
        if window.kind != MetricKind.REQUESTS.value or window.remaining is None:
            continue
        if window.remaining - window.in_flight <= 0:
            if window.reset_at is None:
                return None
            times.append(window.reset_at)
    return max(times) if times else None
