"""What the tracker's reservations still hold, in words: the in-flight counts per provider and
per entry, each entry's and key's count and live reservations, and each window's share.

Once every request has ended, nothing is held and the list is empty; anything else names the
counter that did not come back and by how much (a leaked reservation, read by the tests that
cancel thousands of requests, and by whoever debugs a proxy that admits less than it should).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from chain429.limits.metric import limit_name
from chain429.limits.state import KeyModel, KeyModelState, KeyState
from chain429.limits.window import WindowState


def holdings(
    per_provider: Mapping[str, int],
    per_entry: Mapping[tuple[str, str], int],
    models: Iterable[tuple[KeyModel, KeyModelState]],
    keys: Iterable[tuple[tuple[str, int], KeyState]],
) -> list[str]:
    """One line per counter that holds something; empty when nothing is in flight."""
    held = [f"provider {p}: {n} in flight" for p, n in per_provider.items() if n]
    held += [f"entry {p}/{m}: {n} in flight" for (p, m), n in per_entry.items() if n]
    for (provider_id, slot, model), state in models:
        where = f"{provider_id}/{model} on key slot {slot}"
        if state.in_flight or state.live:
            held.append(f"{where}: {state.in_flight} in flight, {len(state.live)} live")
        held += _windows(where, state.windows.values())
    for (provider_id, index), key in keys:
        where = f"key {index} of {provider_id}"
        if key.live:
            held.append(f"{where}: {len(key.live)} live")
        held += _windows(where, key.windows.values())
    return held


def _windows(where: str, windows: Iterable[WindowState]) -> list[str]:
    return [
        f"{where}, {limit_name(w.kind, w.window)}: {w.in_flight} held"
        for w in windows
        if w.in_flight
    ]
