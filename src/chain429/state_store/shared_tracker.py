"""The tracker of a proxy that shares its limits with other replicas through Redis.

The local tracker goes on doing everything it does alone: it parses every header dialect,
learns limits no header states, keeps manual windows and gates probes; it decides first, and
what it refuses is refused without a round trip. What several replicas must agree on lives
in Redis: per provider key slot and model, what is left of each window, what is in flight,
when it resets, and until when it cools down. So an admission the local tracker grants is
confirmed by one script that checks all of that and takes a lease (`admit_shared`, the one
place the walk waits on Redis), and header reports, releases and cooldowns are written to it
in order as they happen, without waiting.

A lease lasts the request timeout plus a margin, and is renewed every third of that while its
request runs (a stream may run for minutes): a replica that dies with requests in flight
holds their capacity only until their leases run out. Times cross into Redis as wall-clock
seconds: each replica's steady timeline starts at its own wall clock (`chain429.clock`).
"""

from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import Iterator
from typing import Any

from chain429.clock import Clock, Timer, wall_offset
from chain429.config.schema import ProviderConfig
from chain429.limits.metric import LimitReport, MetricKind, Scope, limit_name
from chain429.limits.setup import TrackerSetup
from chain429.limits.state import Reservation, is_free_model
from chain429.limits.tracker import Demand, LimitTracker, Skip, SkipReason
from chain429.limits.window import UNKNOWN_RESET_S
from chain429.outcome import RULES, Effect, Outcome
from chain429.state_store.names import (
    ALL_KEYS,
    SlotKeys,
    key_fingerprint,
    model_name,
    parse_window_name,
    slot_keys,
    window_name,
)
from chain429.state_store.redis_store import Arg
from chain429.state_store.store import StateStore

#: Added to the request timeout to make a lease: a request still running at its timeout ends
#: within moments, and must not lose its share before it does.
LEASE_MARGIN_S = 10.0
#: How many times a running request's lease is renewed within one lease's length.
RENEWALS_PER_LEASE = 3

_ADMITTED = b"admitted"
_COOLING = (Effect.COOLDOWN, Effect.MID_STREAM, Effect.PENALTY)


class SharedTracker(LimitTracker):
    """A `LimitTracker` whose admissions, reports, releases and cooldowns are shared through
    a `StateStore`; see the module docstring."""

    shared = True
    _store: StateStore
    _lease_s: float
    _leases: dict[Reservation, str]
    _slot_keys: dict[tuple[str, str], SlotKeys]
    _lease_ids: Iterator[str]
    _renewal: Timer | None

    @classmethod
    def sharing(
        cls, setup: TrackerSetup, clock: Clock, store: StateStore, lease_s: float
    ) -> SharedTracker:
        tracker = cls(
            setup.policy, clock, setup.traits, setup.limits, setup.listed, setup.keys, setup.probes
        )
        tracker._store, tracker._lease_s = store, lease_s
        tracker._leases, tracker._slot_keys = {}, {}
        tracker._renewal = None
        tracker._lease_ids = map(f"{os.urandom(6).hex()}-{{}}".format, itertools.count())
        return tracker

    @property
    def store(self) -> StateStore:
        return self._store

    async def admit_shared(self, reservation: Reservation, demand: Demand) -> Reservation | Skip:
        store = self._store
        if not store.available:
            return reservation
        offset = wall_offset(self._clock)
        now = self._clock.now() + offset
        lease = next(self._lease_ids)
        keys = self._keys_of(reservation)
        args = self._lease_args(reservation, lease, now, force=False)
        try:
            answer = await store.call("admit", keys, args)
        except asyncio.CancelledError:
            self.withdraw(reservation)
            store.send("release", keys, [now, args[1], lease])
            raise
        if answer is None:  # Redis went away: this replica serves on its own
            return reservation
        if answer[0] == _ADMITTED:
            self._hold(reservation, lease)
            return reservation
        self.withdraw(reservation)
        return _refusal(answer, offset)

    def force(
        self, provider: ProviderConfig, model: str, demand: Demand | None = None
    ) -> Reservation:
        reservation = super().force(provider, model, demand)
        store = self._store
        if store.available:
            lease = next(self._lease_ids)
            now = self._clock.now() + wall_offset(self._clock)
            args = self._lease_args(reservation, lease, now, force=True)
            store.send("admit", self._keys_of(reservation), args)
            self._hold(reservation, lease)
        return reservation

    def withdraw(self, reservation: Reservation) -> None:
        super().withdraw(reservation)
        self._give_back(reservation, [])

    def observe(
        self, reservation: Reservation, report: LimitReport, now: float | None = None
    ) -> None:
        super().observe(reservation, report, now)
        if not report.metrics or not self._store.available:
            return
        if now is None:
            now = self._clock.now()
        offset = wall_offset(self._clock)
        latest = self._policy.latest(now)
        args: list[Arg] = [
            now + offset,
            model_name(reservation.model),
            self._leases.get(reservation, ""),
        ]
        for metric in report.metrics:
            reset = metric.reset_at
            args += [
                window_name(metric.scope, metric.kind, metric.window),
                _opt(metric.limit),
                _opt(metric.remaining),
                "" if reset is None else min(reset, latest) + offset,
                metric.window.seconds or UNKNOWN_RESET_S,
                metric.source.value,
            ]
        self._store.send("observe", self._keys_of(reservation), args)

    def release(self, reservation: Reservation, used_tokens: int | None = None) -> None:
        if reservation.released:
            return
        spends = self._spends(reservation, used_tokens)
        super().release(reservation, used_tokens)
        self._give_back(reservation, spends)

    def _give_back(self, reservation: Reservation, spends: list[Arg]) -> None:
        """End `reservation`'s lease in the shared state and spend `spends` there (nothing to
        send when it held no lease and spent nothing the shared state counts)."""
        lease = self._leases.pop(reservation, "")
        if self._store.available and (lease or spends):
            now = self._clock.now() + wall_offset(self._clock)
            args: list[Arg] = [now, model_name(reservation.model), lease, *spends]
            self._store.send("release", self._keys_of(reservation), args)

    def record(
        self,
        reservation: Reservation,
        outcome: Outcome,
        retry_at: float | None = None,
        reason: str = "",
        scope: Scope = Scope.MODEL,
        now: float | None = None,
    ) -> None:
        super().record(reservation, outcome, retry_at, reason, scope, now)
        effect = RULES[outcome].effect
        if effect not in _COOLING or not self._store.available:
            return
        provider_id, slot = reservation.provider_id, reservation.slot
        state = self.model_state(provider_id, slot, reservation.model)
        if state is None:
            return
        offset = wall_offset(self._clock)
        now = self._clock.now()
        keys, model = self._keys_of(reservation), model_name(reservation.model)
        if state.cooldown_until > now:
            penalised = "1" if state.penalised else "0"
            until = state.cooldown_until + offset
            args: list[Arg] = [now + offset, model, "model", until, state.reason, penalised]
            self._store.send("cool", keys, args)
        key = self.key_state(provider_id, slot)
        if effect is Effect.COOLDOWN and scope is not Scope.MODEL and key is not None:
            wide = key.cooldown_until if scope is Scope.ACCOUNT else key.free_cooldown_until
            if wide > now:
                args = [now + offset, model, scope.value, wide + offset, key.reason, "0"]
                self._store.send("cool", keys, args)

    def _hold(self, reservation: Reservation, lease: str) -> None:
        self._leases[reservation] = lease
        if self._renewal is None:
            when = self._clock.now() + self._lease_s / RENEWALS_PER_LEASE
            self._renewal = self._clock.call_at(when, self._renew)

    def _renew(self) -> None:
        """Extend the leases of the requests still running, one call per provider key."""
        self._renewal = None
        if not self._leases:
            return
        expiry = self._clock.now() + wall_offset(self._clock) + self._lease_s
        renewed: dict[SlotKeys, list[Arg]] = {}
        for reservation, lease in self._leases.items():
            renewed.setdefault(self._keys_of(reservation), [expiry]).append(lease)
        for keys, args in renewed.items():
            self._store.send("renew", keys, args)  # dropped while Redis is away
        when = self._clock.now() + self._lease_s / RENEWALS_PER_LEASE
        self._renewal = self._clock.call_at(when, self._renew)

    def _keys_of(self, reservation: Reservation) -> SlotKeys:
        """The Redis keys of the provider key `reservation` holds (of its provider, when its
        keys share their limits); see `names`."""
        provider_id, api_key = reservation.provider_id, reservation.api_key
        keys = self._slot_keys.get((provider_id, api_key))
        if keys is None:
            if self.slot(provider_id, 1) == 0:  # its keys share their limits: one slot
                fingerprint = ALL_KEYS
            else:
                fingerprint = key_fingerprint(provider_id, api_key)
            keys = self._slot_keys[(provider_id, api_key)] = slot_keys(provider_id, fingerprint)
        return keys

    def _lease_args(
        self, reservation: Reservation, lease: str, now: float, *, force: bool
    ) -> list[Arg]:
        """The admission script's arguments: the lease, then a seed of each window the local
        reservation holds (the shared state takes one where it lacks the window)."""
        model = reservation.model
        args: list[Arg] = [
            now,
            model_name(model),
            "1" if is_free_model(model) else "0",
            reservation.tokens,
            lease,
            now + self._lease_s,
            "1" if force else "0",
        ]
        offset = now - self._clock.now()
        names = self._window_names(reservation)
        for window in reservation.windows:
            name = names.get(id(window))
            if name is None:
                continue
            reset = window.reset_at
            args += [
                name,
                _opt(window.limit),
                _opt(window.remaining),
                "" if reset is None else reset + offset,
                window.window.seconds or UNKNOWN_RESET_S,
                window.source.value,
            ]
        return args

    def _spends(self, reservation: Reservation, used_tokens: int | None) -> list[Arg]:
        """(window name, amount) of each window `reservation` holds that no answer reported:
        what it spent there is counted by hand, as the local tracker does."""
        unreported = [w for w in reservation.windows if id(w) not in reservation.observed]
        if not unreported:
            return []
        names = self._window_names(reservation)
        tokens = reservation.tokens if used_tokens is None else used_tokens
        spends: list[Arg] = []
        for window in unreported:
            name = names.get(id(window))
            amount = 1 if window.kind is MetricKind.REQUESTS else tokens
            if name is not None and amount:
                spends += [name, amount]
        return spends

    def _window_names(self, reservation: Reservation) -> dict[int, str]:
        names: dict[int, str] = {}
        entry, shared = reservation.entry, reservation.shared
        if entry is not None:
            for (kind, window), state in entry.windows.items():
                names[id(state)] = window_name(Scope.MODEL, kind, window)
        if shared is not None:
            for (kind, window, scope), state in shared.windows.items():
                names[id(state)] = window_name(scope, kind, window)
        return names


def _opt(value: int | None) -> Arg:
    return "" if value is None else value


def _refusal(answer: list[Any], offset: float) -> Skip:
    """The skip the shared state answered: (reason, until as wall-clock seconds, what)."""
    reason = SkipReason(answer[0].decode())
    until = float(answer[1]) - offset
    what = answer[2].decode()
    if reason in (SkipReason.REQUESTS_EXHAUSTED, SkipReason.TOKENS_EXHAUSTED):
        _, kind, window = parse_window_name(what)
        what = f"{limit_name(kind, window)} exhausted across replicas"
    return Skip(reason, until, what)
