"""The limit state as the metrics endpoint wants it (a `usage.metrics.LimitsView`: this
replica's own, see docs/deployment.md), and as the status views show it (the fleet's, when
replicas share Redis)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from chain429.limits.status import EntryView, entry_views
from chain429.state import AppState
from chain429.usage.metrics import EntryLimits, QuotaFigure


class TrackerLimitsView:
    """Reads cooldowns, in-flight counts and quotas from the tracker, changing nothing."""

    def __init__(self, state: AppState) -> None:
        self._state = state

    def entry_limits(self) -> Iterable[EntryLimits]:
        state = self._state
        for view in entry_views(state.config, state.tracker, state.clock.now()):
            yield EntryLimits(
                provider_id=view.provider,
                key_label=view.key_label,
                model=view.model,
                cooldown_until=view.cooldown_until,
                in_flight=view.in_flight,
                quotas=tuple(
                    QuotaFigure(w.kind, w.window, w.limit, w.remaining) for w in view.windows
                ),
            )

    def queue_depths(self) -> Mapping[str, int]:
        queues = self._state.waterfall.queues
        return queues.depths() if queues is not None else {}


async def fleet_entry_views(
    state: AppState, views: list[EntryView], now: float
) -> tuple[list[EntryView], str]:
    """`views` as the fleet sees them, read from Redis at most once a second, and what they
    are: `memory` (one process), `shared` (the fleet's) or `local` (Redis unreachable: this
    replica's own), the values of `/health`'s `stateStore`."""
    fleet = state.fleet
    if fleet is None:
        return views, state.state_store_status()
    await fleet.limits.refresh()
    return fleet.limits.merged(views, now)


def latest_fleet_entry_views(
    state: AppState, views: list[EntryView], now: float
) -> tuple[list[EntryView], str]:
    """`fleet_entry_views` without waiting: the last reading, and a new one asked for."""
    fleet = state.fleet
    if fleet is None:
        return views, state.state_store_status()
    fleet.limits.refresh_soon()
    return fleet.limits.merged(views, now)
