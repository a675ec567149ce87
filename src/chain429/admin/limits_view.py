"""The limit state as the metrics endpoint wants it (a `usage.metrics.LimitsView`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from chain429.limits.status import entry_views
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
