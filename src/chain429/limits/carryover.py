"""What limit state a config change keeps, moves or drops (`LimitTracker.reconfigure`).

State belongs to a key, not to its position: a provider's keys are matched by the key itself,
so reordering or adding keys moves each key's state to the key's new position. The state of a
removed or changed key is dropped (a changed key starts fresh, so a key set aside after a 401
comes back), and so is all of a removed provider's, and that of every entry no chain lists any
more. Where a provider's keys share one set of limits (one account), its key-wide and model
state sits in slot 0 and stays while any of its keys does; only the first key's own state (out
of credit, set aside) is moved out of slot 0 when that key moves.

Dropped states are marked `retired`: a reservation granted on one before the change teaches
nothing when it ends, and nothing dropped comes back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from chain429.clock import Clock
from chain429.limits.manual import revise_manual_windows
from chain429.limits.metric import Scope
from chain429.limits.setup import NO_TRAITS, TrackerSetup
from chain429.limits.state import KeyModel, KeyModelState, KeyState, hold_for_others

KeyStates = dict[tuple[str, int], KeyState]
ModelStates = dict[KeyModel, KeyModelState]


@dataclass(frozen=True, slots=True)
class KeyMoves:
    """Where one provider's state goes: old key slot -> new slot (model and key-wide state),
    old key index -> new index (a key's own state). A position missing from a map is dropped."""

    slots: Mapping[int, int]
    keys: Mapping[int, int]
    shared: bool


def moves_between(old: TrackerSetup, new: TrackerSetup) -> dict[str, KeyMoves]:
    """The moves of every provider of `new`. A provider whose upstream changed, or whose keys
    started or stopped sharing their limits, keeps nothing."""
    moves = {}
    for provider_id, keys in new.keys.items():
        before = old.traits.get(provider_id, NO_TRAITS)
        after = new.traits.get(provider_id, NO_TRAITS)
        same = (before.upstream, before.keys_share_limits) == (
            after.upstream,
            after.keys_share_limits,
        )
        old_keys = old.keys.get(provider_id, ()) if same else ()
        moves[provider_id] = key_moves(old_keys, keys, shared=after.keys_share_limits)
    return moves


def key_moves(old: Sequence[str], new: Sequence[str], *, shared: bool) -> KeyMoves:
    """The moves of a provider whose keys were `old` and are now `new` (each key at its first
    position). With `shared` keys, slot 0 is the account's and stays while any key does."""
    position: dict[str, int] = {}
    for index, key in enumerate(new):
        position.setdefault(key, index)
    keys: dict[int, int] = {}
    seen: set[str] = set()
    for index, key in enumerate(old):
        if key in position and key not in seen:
            keys[index] = position[key]
        seen.add(key)
    if shared:
        return KeyMoves({0: 0} if keys else {}, keys, shared=True)
    return KeyMoves(keys, keys, shared=False)


@dataclass(frozen=True, slots=True)
class Carried:
    """The tracker's tables after a change, and where each kept model state went."""

    models: ModelStates
    keys: KeyStates
    moved: Mapping[KeyModel, KeyModel]


def carry_over(
    models: ModelStates,
    keys: KeyStates,
    moves: Mapping[str, KeyMoves],
    unlisted: frozenset[tuple[str, str]] = frozenset(),
) -> Carried:
    """New tables from `models` and `keys`: a provider missing from `moves` is dropped whole,
    and so are the entries in `unlisted` (chains listed them, none does now)."""
    new_models: ModelStates = {}
    moved: dict[KeyModel, KeyModel] = {}
    for old, state in models.items():
        provider_id, slot, model = old
        move = moves.get(provider_id)
        to = None if move is None or (provider_id, model) in unlisted else move.slots.get(slot)
        if to is None:
            state.retired = True
            continue
        new = (provider_id, to, model)
        new_models[new] = state
        moved[old] = new
    by_provider: dict[str, dict[int, KeyState]] = {}
    for (provider_id, index), key in keys.items():
        by_provider.setdefault(provider_id, {})[index] = key
    new_keys: KeyStates = {}
    for provider_id, states in by_provider.items():
        move = moves.get(provider_id)
        kept = {} if move is None else _moved_keys(states, move)
        still = {id(key) for key in kept.values()}
        for key in states.values():
            if id(key) not in still:
                key.retired = True
        new_keys.update(((provider_id, index), key) for index, key in kept.items())
    return Carried(new_models, new_keys, moved)


def _moved_keys(states: dict[int, KeyState], move: KeyMoves) -> dict[int, KeyState]:
    """One provider's key states at their new indexes."""
    if not move.shared:
        return {move.keys[i]: key for i, key in states.items() if i in move.keys}
    if not move.keys:
        return {}
    # Slot 0 holds the account's state, kept while any key is, and the first key's own
    # (out of credit, set aside), which follows that key.
    account = states.get(0) or KeyState()
    kept = {0: account}
    now_first: KeyState | None = None
    for index, key in states.items():
        to = move.keys.get(index)
        if to == 0:
            now_first = key
        elif to is not None:
            kept[to] = _own(key) if index == 0 else key
    if now_first is not account:
        account.credit_until = now_first.credit_until if now_first is not None else 0.0
        account.disabled = now_first.disabled if now_first is not None else None
    return kept


def _own(key: KeyState) -> KeyState:
    """What of `key` belongs to the key alone, not to its account."""
    return KeyState(credit_until=key.credit_until, disabled=key.disabled)


def revise(
    models: ModelStates,
    keys: KeyStates,
    old: TrackerSetup,
    new: TrackerSetup,
    revised: frozenset[str],
    now: float,
    clock: Clock | None = None,
) -> None:
    """After the move: manual windows follow changed limits (and time zones), counting the
    requests in flight; an entry set aside (a 404) comes back when its limits changed, it is
    listed anew or its provider is in `revised` (its config changed other than in its keys);
    a key set aside (a 401) comes back when its provider is in `revised`."""
    new_entries = new.listed - old.listed
    for (provider_id, _, model), state in models.items():
        zone = new.traits.get(provider_id, NO_TRAITS).zone
        limits = new.limits.for_entry(provider_id, model)
        changed = (limits, zone) != (
            old.limits.for_entry(provider_id, model),
            old.traits.get(provider_id, NO_TRAITS).zone,
        )
        if changed:
            for window in revise_manual_windows(state.windows, limits, zone, now, clock):
                if state.live:
                    window.start(now)
                hold_for_others(window, Scope.MODEL, state.live, None)
        if changed or provider_id in revised or (provider_id, model) in new_entries:
            state.disabled = None
    for (provider_id, _), key in keys.items():
        if provider_id in revised:
            key.disabled = None
