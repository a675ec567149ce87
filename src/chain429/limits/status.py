"""Read-only views of the limit state for the status APIs. Reading never changes state:
windows whose reset has passed are shown refilled without being touched."""

from __future__ import annotations

from dataclasses import dataclass

from chain429.config.schema import Config
from chain429.limits.metric import MetricKind
from chain429.limits.state import KeyModelState, KeyState, is_free_model
from chain429.limits.tracker import LimitTracker, key_label, key_window_applies
from chain429.limits.window import WindowState


@dataclass(frozen=True, slots=True)
class WindowView:
    kind: str
    window: str
    scope: str
    limit: int | None
    remaining: int | None
    in_flight: int
    reset_at: float | None
    source: str
    updated_at: float
    raw: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class EntryView:
    """One (provider, key, model) as admission sees it now."""

    provider: str
    model: str
    key_label: str
    status: str
    cooldown_until: float | None
    reason: str | None
    disabled: str | None
    in_flight: int
    windows: tuple[WindowView, ...]


def window_view(window: WindowState, scope: str, now: float) -> WindowView:
    expired = window.reset_at is not None and now >= window.reset_at
    return WindowView(
        kind=window.kind.value,
        window=window.window.value,
        scope=scope,
        limit=window.limit,
        remaining=window.limit if expired else window.remaining,
        in_flight=window.in_flight,
        reset_at=None if expired else window.reset_at,
        source=window.source.value,
        updated_at=window.updated_at,
        raw=window.raw,
    )


def entry_views(config: Config, tracker: LimitTracker, now: float) -> list[EntryView]:
    """Every chain entry's provider and model, for each key of the provider."""
    views: list[EntryView] = []
    seen: set[tuple[str, str]] = set()
    for chain in config.chains:
        for entry in chain.entries:
            if (entry.provider, entry.model) in seen:
                continue
            seen.add((entry.provider, entry.model))
            provider = config.provider(entry.provider)
            for index, api_key in enumerate(provider.keys):
                views.append(_view(tracker, provider.id, index, api_key, entry.model, now))
    return views


def direct_entry_views(config: Config, tracker: LimitTracker, now: float) -> list[EntryView]:
    """Entries that have limit state but are in no chain: those reached as `provider/model`."""
    in_chains = {
        (entry.provider, entry.model) for chain in config.chains for entry in chain.entries
    }
    providers = {provider.id: provider for provider in config.providers}
    direct = dict.fromkeys(
        (p, m) for (p, _, m), _ in tracker.model_states() if (p, m) not in in_chains
    )
    views: list[EntryView] = []
    for provider_id, model in direct:
        provider = providers.get(provider_id)
        if provider is None:
            continue
        for index, api_key in enumerate(provider.keys):
            views.append(_view(tracker, provider.id, index, api_key, model, now))
    return views


def _view(
    tracker: LimitTracker, provider_id: str, index: int, api_key: str, model: str, now: float
) -> EntryView:
    slot = tracker.slot(provider_id, index)
    state = tracker.model_state(provider_id, slot, model) or KeyModelState()
    key = tracker.key_state(provider_id, index) or KeyState()
    shared = tracker.key_state(provider_id, slot) or KeyState()
    windows = [window_view(w, "model", now) for w in state.windows.values()]
    windows += [
        window_view(w, scope.value, now)
        for (_, _, scope), w in shared.windows.items()
        if key_window_applies(scope, model)
    ]
    limited = [shared.cooldown_until, key.credit_until]
    if is_free_model(model):
        limited.append(shared.free_cooldown_until)
    if not state.penalised:
        limited.append(state.cooldown_until)
    cooling = max(state.cooldown_until, *limited)
    disabled = key.disabled or state.disabled
    exhausted = any(
        w.remaining is not None and w.remaining - w.in_flight <= 0
        for w in windows
        if w.kind == MetricKind.REQUESTS.value
    )
    if disabled or max(limited) > now or exhausted:
        status = "exhausted"
    elif cooling > now:
        status = "failing"
    elif windows:
        status = "tracking"
    else:
        status = "available"
    reason = disabled or (state.reason or shared.reason or None if cooling > now else None)
    if reason is None and exhausted:
        reason = "quota exhausted"
    return EntryView(
        provider=provider_id,
        model=model,
        key_label=key_label(api_key, index),
        status=status,
        cooldown_until=cooling if cooling > now else None,
        reason=reason,
        disabled=disabled,
        in_flight=state.in_flight,
        windows=tuple(windows),
    )
