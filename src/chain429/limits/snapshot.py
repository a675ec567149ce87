"""Limit state to and from plain data, so a restart does not re-spend calls to rediscover an
exhausted provider. Expired parts are dropped on both sides, except learned limits, which hold
beyond their current window (`limits.learned`); keys set aside for a bad key are not kept (a
restart is a natural moment to try a fixed config again)."""

from __future__ import annotations

from typing import Any, TypeVar

from chain429.config.schema import Config
from chain429.limits import learned
from chain429.limits.metric import MetricKind, Scope, Source, Window
from chain429.limits.tracker import LimitTracker
from chain429.limits.window import WindowState

SNAPSHOT_VERSION = 1

E = TypeVar("E", MetricKind, Window, Source, Scope)


def take_snapshot(tracker: LimitTracker, now: float) -> dict[str, Any]:
    entries = []
    for (provider, slot, model), state in tracker.model_states():
        windows = [_window(w, None) for w in state.windows.values() if _live(w, now)]
        cooldown = state.cooldown_until if state.cooldown_until > now else None
        limit = learned.to_data(state.learning)
        if not windows and cooldown is None and limit is None:
            continue
        entry = {
            "provider": provider,
            "slot": slot,
            "model": model,
            "cooldownUntil": cooldown,
            "reason": state.reason if cooldown else "",
            "penalised": bool(cooldown and state.penalised),
            "windows": windows,
        }
        entries.append(entry if limit is None else entry | {"learned": limit})
    keys = []
    for (provider, index), key in tracker.key_states():
        windows = [_window(w, s) for (_, _, s), w in key.windows.items() if _live(w, now)]
        times = {
            "creditUntil": key.credit_until,
            "cooldownUntil": key.cooldown_until,
            "freeCooldownUntil": key.free_cooldown_until,
        }
        live = {k: v for k, v in times.items() if v > now}
        if windows or live:
            keys.append(
                {"provider": provider, "index": index, "reason": key.reason, "windows": windows}
                | live
            )
    return {"version": SNAPSHOT_VERSION, "savedAt": now, "entries": entries, "keys": keys}


#: The keys whose values are points in time, wherever they appear in a snapshot.
_INSTANTS = frozenset(
    ("cooldownUntil", "creditUntil", "freeCooldownUntil", "resetAt", "updatedAt", "savedAt")
)


def shifted_snapshot(data: Any, seconds: float) -> Any:
    """`data` with every point in time in it moved by `seconds`. A snapshot is saved on the wall
    clock, readable by any process, and a tracker runs on its clock's steady timeline
    (`chain429.clock`): this converts one to the other. Values that are not numbers are left
    for `restore_snapshot` to ignore."""
    if not seconds:
        return data
    if isinstance(data, list):
        return [shifted_snapshot(item, seconds) for item in data]
    if not isinstance(data, dict):
        return data
    return {
        key: value + seconds
        if key in _INSTANTS and _time(value) is not None
        else shifted_snapshot(value, seconds)
        for key, value in data.items()
    }


def snapshot_problem(data: Any) -> str | None:
    """Why `data` is not a snapshot this version can restore, in words; None when it is one."""
    if not isinstance(data, dict):
        return f"not a limit snapshot (a JSON {type(data).__name__})"
    version = data.get("version")
    if version != SNAPSHOT_VERSION:
        return f"snapshot version {version!r}, this version reads {SNAPSHOT_VERSION}"
    return None


def restore_snapshot(tracker: LimitTracker, config: Config, data: Any, now: float) -> int:
    """Apply a snapshot; returns how many entries and keys came back. Anything that does not fit
    the current config (a removed provider, a key that is gone) or has expired is ignored."""
    if not isinstance(data, dict) or data.get("version") != SNAPSHOT_VERSION:
        return 0
    providers = {p.id: p for p in config.providers}
    restored = 0
    for item in _items(data, "entries"):
        provider = providers.get(str(item.get("provider")))
        slot, model = item.get("slot"), item.get("model")
        if provider is None or not isinstance(slot, int) or not isinstance(model, str):
            continue
        if not 0 <= slot < len(provider.keys):
            continue
        state = tracker.ensure_model_state(provider.id, slot, model)
        cooldown = _time(item.get("cooldownUntil"))
        if cooldown is not None and cooldown > now:
            state.cooldown_until = cooldown
            state.reason = str(item.get("reason") or "")
            state.penalised = item.get("penalised") is True
        for raw in _items(item, "windows"):
            window = _read_window(raw, now)
            if window is None:
                continue
            current = state.windows.get((window.kind, window.window))
            if current is not None:
                window.next_reset = current.next_reset
            state.windows[(window.kind, window.window)] = window
        learned.restore(state.learning, state.windows, item.get("learned"), now)
        restored += 1
    for item in _items(data, "keys"):
        provider = providers.get(str(item.get("provider")))
        index = item.get("index")
        if provider is None or not isinstance(index, int) or not 0 <= index < len(provider.keys):
            continue
        key = tracker.ensure_key_state(provider.id, index)
        key.credit_until = max(key.credit_until, _time(item.get("creditUntil")) or 0.0)
        key.cooldown_until = max(key.cooldown_until, _time(item.get("cooldownUntil")) or 0.0)
        key.free_cooldown_until = max(
            key.free_cooldown_until, _time(item.get("freeCooldownUntil")) or 0.0
        )
        key.reason = str(item.get("reason") or "")
        for raw in _items(item, "windows"):
            window = _read_window(raw, now)
            scope = _enum(Scope, raw.get("scope"))
            if window is not None and scope is not None:
                key.windows[(window.kind, window.window, scope)] = window
        restored += 1
    return restored


def _live(window: WindowState, now: float) -> bool:
    return window.reset_at is not None and window.reset_at > now and window.remaining is not None


def _window(window: WindowState, scope: Scope | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "kind": window.kind.value,
        "window": window.window.value,
        "limit": window.limit,
        "remaining": window.remaining,
        "resetAt": window.reset_at,
        "source": window.source.value,
        "updatedAt": window.updated_at,
    }
    if scope is not None:
        out["scope"] = scope.value
    return out


def _read_window(raw: dict[str, Any], now: float) -> WindowState | None:
    kind = _enum(MetricKind, raw.get("kind"))
    window = _enum(Window, raw.get("window"))
    source = _enum(Source, raw.get("source"))
    reset_at = _time(raw.get("resetAt"))
    remaining, limit = raw.get("remaining"), raw.get("limit")
    if kind is None or window is None or source is None or reset_at is None or reset_at <= now:
        return None
    if not isinstance(remaining, int) or not (limit is None or isinstance(limit, int)):
        return None
    return WindowState(
        kind=kind,
        window=window,
        limit=limit,
        remaining=remaining,
        reset_at=reset_at,
        source=source,
        updated_at=_time(raw.get("updatedAt")) or now,
    )


def _items(data: dict[str, Any], name: str) -> list[dict[str, Any]]:
    value = data.get(name)
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _time(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _enum(kind: type[E], value: Any) -> E | None:
    try:
        return kind(value)
    except ValueError:
        return None
