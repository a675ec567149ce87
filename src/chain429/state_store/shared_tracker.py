"""The tracker of a proxy that shares its limits with other replicas through Redis.

The local tracker goes on doing everything it does alone: it parses every header dialect,
learns limits no header states, keeps manual windows and gates probes; it decides first, and
what it refuses is refused without a round trip. What several replicas must agree on lives
in Redis: per provider key slot and model, what is left of each window, what is in flight,
when it resets, and until when it cools down. So an admission the local tracker grants is
confirmed by one script that checks all of that and takes a lease (`admit_shared`, the one
place the walk waits on Redis), and header reports, releases and cooldowns are written to it
in order as they happen, without waiting.

A lease lasts the request timeout plus a margin (following a change of the timeouts), and is
renewed every third of that while its request runs (a stream may run for minutes): a replica
that dies with requests in flight holds their capacity only until their leases run out.
Times cross into Redis as wall-clock seconds: each replica's steady timeline starts at its
own wall clock (`chain429.clock`).

Probes are the fleet's (issue 13's probing, for every replica at once). A request at an entry
whose limits this replica does not know (or whose last answer was a failure) is admitted by
`scripts.GATED_ADMIT`, which admits no more requests in flight there, fleet-wide, than one
process would (`limits.probe`): `probeConcurrency` probes, or a slow start. Refused, the
request waits for the answer as it would for a probe of its own (`router.probe_wait`), and
the entry's other requests here are held back without asking Redis (`HOLD_S`). The answer is
written to the shared state (`scripts.ANSWER`) and told to every replica on a channel
(`answer_feed`): the waiting requests wake, and an entry whose limits the fleet now knows is
admitted here without probing (`known_elsewhere`; Redis admits it exactly). A limit learned
from a 429 (`limits.learned`) becomes a window of the shared state (`scripts.LEARN`), which
every replica admits against and spends. With Redis away, each replica probes on its own.
"""

from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from urllib.parse import unquote

from chain429.clock import Clock, Timer, wall_offset
from chain429.config.schema import ProviderConfig
from chain429.limits.learned import LEARNED_KEY
from chain429.limits.metric import LimitReport, MetricKind, Scope, Source, Window, limit_name
from chain429.limits.probe import (
    FAILED_DETAIL,
    SLOW_START_DETAIL,
    UNKNOWN_DETAIL,
    Answer,
    answer_after,
)
from chain429.limits.setup import TrackerSetup
from chain429.limits.state import KeyModelState, Reservation, is_free_model
from chain429.limits.tracker import Demand, LimitTracker, Skip, SkipReason
from chain429.limits.window import UNKNOWN_RESET_S, WindowState
from chain429.outcome import RULES, Effect, Outcome
from chain429.state_store import fleet_concurrency
from chain429.state_store.answer_feed import AnswerFeed
from chain429.state_store.names import (
    ALL_KEYS,
    PROBE_CHANNEL,
    SlotKeys,
    concurrency_keys,
    key_fingerprint,
    model_name,
    parse_window_name,
    slot_keys,
    window_name,
)
from chain429.state_store.redis_store import Arg, RedisStore

#: What a lease adds to the longest request timeout: a third of it, at least
#: `LEASE_MARGIN_MIN_S` and at most `LEASE_MARGIN_MAX_S` (see `lease_length_s`).
LEASE_MARGIN_SHARE = 1 / 3
LEASE_MARGIN_MIN_S = 2.0
LEASE_MARGIN_MAX_S = 10.0
#: How many times a running request's lease is renewed within one lease's length.
RENEWALS_PER_LEASE = 3

#: How long the other requests at an entry whose probe (another replica's) the shared state
#: said is out are held back here without asking it again, unless the answer comes sooner:
#: a burst waiting on the fleet's probe costs no round trips, and a told answer that was lost
#: costs at most this long before they look again.
HOLD_S = 1.0
#: Past this many answers served in a row, the fleet's slow start at an entry that states no
#: limit admits more at once than it will ever have in flight: further answers served there
#: are not told (each would cost a script and a message to every replica).
TOLD_RUN_MAX = 256

_ADMITTED = b"admitted"
_PROBING = b"probing"
_Place = tuple[SlotKeys, list[Arg]]
_COOLING = (Effect.COOLDOWN, Effect.MID_STREAM, Effect.PENALTY)
_HELD = {b"unknown": UNKNOWN_DETAIL, b"slow": SLOW_START_DETAIL, b"failed": FAILED_DETAIL}
_ELSEWHERE = " (the fleet's probes are out)"
_LEARNED = window_name(Scope.MODEL, MetricKind.REQUESTS, Window.UNKNOWN)
_NO_RUN = ""


class SharedTracker(LimitTracker):
    """A `LimitTracker` whose admissions, reports, releases and cooldowns are shared through
    a `RedisStore`; see the module docstring."""

    shared = True
    _store: RedisStore
    _lease_s: float
    _leases: dict[Reservation, str]
    _places: dict[Reservation, SlotKeys]
    _slot_keys: dict[tuple[str, str], SlotKeys]
    _lease_ids: Iterator[str]
    _renewal: Timer | None
    _holds: dict[tuple[str, str], tuple[str, Timer]]
    _elsewhere: list[Callable[[str, str], None]]
    _entries: dict[str, set[tuple[str, int]]] | None
    _feed: AnswerFeed

    @classmethod
    def sharing(
        cls, setup: TrackerSetup, clock: Clock, store: RedisStore, lease_s: float
    ) -> SharedTracker:
        tracker = cls(
            setup.policy, clock, setup.traits, setup.limits, setup.listed, setup.keys, setup.probes
        )
        tracker._store, tracker._lease_s = store, lease_s
        tracker._leases, tracker._slot_keys, tracker._places = {}, {}, {}
        tracker._renewal = None
        tracker._lease_ids = map(f"{os.urandom(6).hex()}-{{}}".format, itertools.count())
        tracker._holds, tracker._elsewhere, tracker._entries = {}, [], None
        feed = tracker._feed = AnswerFeed(store.url, tracker._heard, tracker._look_again)
        store.on_close(feed.close)
        store.on_change(tracker._availability)
        return tracker

    @property
    def store(self) -> RedisStore:
        return self._store

    @property
    def lease_s(self) -> float:
        """How long a lease lasts unless renewed."""
        return self._lease_s

    @property
    def hears_answers(self) -> bool:
        """Whether answers other replicas tell reach this one now (`answer_feed`)."""
        return self._feed.following

    def admit(
        self,
        provider: ProviderConfig,
        model: str,
        demand: Demand | None = None,
        first_key: int = 0,
    ) -> Reservation | Skip:
        holds = self._holds
        if holds:
            hold = holds.get((provider.id, model))
            if hold is not None and (demand is None or not demand.waited):
                return Skip(SkipReason.PROBING, self._clock.now(), hold[0])
        return super().admit(provider, model, demand, first_key)

    def on_answer_elsewhere(self, listener: Callable[[str, str], None]) -> None:
        self._elsewhere.append(listener)

    def reconfigure(self, setup: TrackerSetup, revised: frozenset[str] = frozenset()) -> None:
        """Follow a config change; leases follow its timeouts (`setup.attempt_s`): those
        running are renewed at once to the new length, and renewed every third of it."""
        super().reconfigure(setup, revised)
        self._entries = None
        lease_s = lease_length_s(setup.attempt_s)
        if lease_s == self._lease_s:
            return
        self._lease_s = lease_s
        if self._renewal is not None:
            self._renewal.cancel()
            self._renew()

    async def admit_shared(self, reservation: Reservation, demand: Demand) -> Reservation | Skip:
        store = self._store
        if not store.available:
            return reservation
        offset = wall_offset(self._clock)
        now = self._clock.now() + offset
        lease = next(self._lease_ids)
        keys = self._keys_of(reservation)
        args = self._lease_args(reservation, lease, now, force=False)
        script = "admit"
        probes, entry = self._probes, reservation.entry
        if (
            probes is not None
            and entry is not None
            and (
                entry.answer is Answer.FAILED or not (reservation.windows or entry.known_elsewhere)
            )
        ):  # the entry's limits are known neither here nor elsewhere, or it was failing
            script = "gated_admit"
            queued = "q" if args[6] == "q" else ""
            args[6] = f"g{probes.concurrency}/{1 if demand.waited else 0}{queued}"
        place = self._place(reservation, lease, now, force=False)
        try:
            answer, placed = await self._admission(script, keys, args, place)
        except asyncio.CancelledError:
            self.withdraw(reservation)
            store.send("release", keys, [now, args[1], lease])
            self._free_place(place, now, lease)
            raise
        admitted = answer is not None and answer[0] == _ADMITTED
        full = fleet_concurrency.refusal(placed)
        if admitted and full is None:
            self._hold(reservation, lease)
            if place is not None:
                self._places[reservation] = place[0]
            return reservation
        if fleet_concurrency.taken(placed):
            self._free_place(place, now, lease)
        if answer is None and full is None:  # Redis went away: this replica serves on its own
            return reservation
        if answer is not None and answer[0] == _PROBING:
            held = self._hold_back(reservation, _HELD.get(answer[2], UNKNOWN_DETAIL) + _ELSEWHERE)
            self.withdraw(reservation)
            return held
        self.withdraw(reservation)
        if answer is not None and not admitted:
            return _refusal(answer, offset)
        if admitted:  # but no place left under a concurrency limit
            store.send("release", keys, [now, args[1], lease])
        assert full is not None
        return full

    async def _admission(
        self, script: str, keys: SlotKeys, args: list[Arg], place: _Place | None
    ) -> tuple[Any, Any]:
        """The shared state's answers to an admission (by `script`) and, where a concurrency
        limit applies, to its place (`fleet_concurrency`): both queued before either is
        awaited, so they leave in one round trip."""
        store = self._store
        if place is None:
            return await store.call(script, keys, args), None
        admission, taking = store.call(script, keys, args), store.call("take_place", *place)
        answer, placed = await asyncio.gather(admission, taking)
        return answer, placed

    def _place(
        self, reservation: Reservation, lease: str, now: float, *, force: bool
    ) -> _Place | None:
        """Where and how `reservation` takes a place under its provider's or entry's
        concurrency limits, or None when neither has one (`fleet_concurrency`)."""
        expiry = now + self._lease_s
        args = fleet_concurrency.place_args(
            self._limits, reservation, lease, now, expiry, force=force, queued=self.queue_mode
        )
        return None if args is None else (concurrency_keys(reservation.provider_id), args)

    def _free_place(self, place: _Place | None, now: float, lease: str) -> None:
        if place is not None:
            self._store.send("free_place", place[0], [now, lease])

    def _hold_back(self, reservation: Reservation, detail: str) -> Skip:
        """Hold the other requests at `reservation`'s entry back here, for `HOLD_S` or until
        an answer is told, since the shared state said its probes are out."""
        entry = (reservation.provider_id, reservation.model)
        now = self._clock.now()
        held = self._holds.pop(entry, None)
        if held is not None:
            held[1].cancel()
        timer = self._clock.call_at(now + HOLD_S, lambda: self._let_through(entry))
        self._holds[entry] = (detail, timer)
        return Skip(SkipReason.PROBING, now, detail)

    def _let_through(self, entry: tuple[str, str]) -> None:
        """End the hold on `entry` (if any) and wake the requests waiting on it, to ask again."""
        held = self._holds.pop(entry, None)
        if held is not None:
            held[1].cancel()
        for listener in self._elsewhere:
            listener(*entry)

    def _heard(self, message: bytes) -> None:
        """An answer (or a learned limit) told on the channel: the fleet's view of the entry
        becomes this replica's, and its waiting requests ask again."""
        try:
            state_key, model, told, run, known = message.decode().split(" ")
            answer, served = Answer(told), int(run)
        except ValueError:
            return  # not a message of ours
        model = unquote(model)
        for provider_id, slot in self._entries_at(state_key):
            state = self.model_state(provider_id, slot, model)
            if state is None:
                continue  # never used here: its first request asks the shared state anyway
            state.answer, state.served_run = answer, served
            state.known_elsewhere = known == "1"
            self._let_through((provider_id, model))

    def _look_again(self) -> None:
        """What was told may have been missed (the channel is followed again, or no longer:
        then at each attempt to follow it again): the held requests ask the shared state
        again rather than wait for an answer this replica cannot hear (its store finds an
        outage on the way: of a Redis Cluster, the node gone with the subscription may hold
        their keys)."""
        for entry in list(self._holds):
            self._let_through(entry)

    def _availability(self, available: bool) -> None:
        """Redis went away: each replica probes on its own again (as if alone), from what its
        own answers taught."""
        if available:
            return
        for _, state in self.model_states():
            state.known_elsewhere = False
        self._look_again()

    def _entries_at(self, state_key: str) -> Iterable[tuple[str, int]]:
        """The (provider id, key slot) pairs of this replica whose shared state is at
        `state_key`."""
        if self._entries is None:
            entries: dict[str, set[tuple[str, int]]] = {}
            for provider_id, api_keys in self._setup.keys.items():
                for index, api_key in enumerate(api_keys):
                    state = self._slot_keys_of(provider_id, api_key).state
                    entries.setdefault(state, set()).add(
                        (provider_id, self.slot(provider_id, index))
                    )
            self._entries = entries
        return self._entries.get(state_key, ())

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
            place = self._place(reservation, lease, now, force=True)
            if place is not None:
                store.send("take_place", *place)
                self._places[reservation] = place[0]
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
        place = self._places.pop(reservation, None)
        if self._store.available and (lease or spends):
            now = self._clock.now() + wall_offset(self._clock)
            args: list[Arg] = [now, model_name(reservation.model), lease, *spends]
            self._store.send("release", self._keys_of(reservation), args)
            if place is not None:
                self._store.send("free_place", place, [now, lease])

    def record(
        self,
        reservation: Reservation,
        outcome: Outcome,
        retry_at: float | None = None,
        reason: str = "",
        scope: Scope = Scope.MODEL,
        now: float | None = None,
    ) -> None:
        entry = reservation.entry
        if entry is None:
            super().record(reservation, outcome, retry_at, reason, scope, now)
            return
        was, learned = entry.answer, entry.windows.get(LEARNED_KEY)
        limit = None if learned is None else learned.limit
        super().record(reservation, outcome, retry_at, reason, scope, now)
        effect = RULES[outcome].effect
        if _may_tell(reservation, entry, was, learned, limit):
            run = "0" if effect in (Effect.COOLDOWN, Effect.PENALTY) else _NO_RUN
            if outcome is Outcome.SERVED and not reservation.answered:
                run = "+"
            told = answer_after(outcome, Answer.NONE)
            self._tell(reservation, entry, told, run, was, learned, limit)
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

    def committed(self, reservation: Reservation) -> None:
        entry, answered = reservation.entry, reservation.answered
        if entry is None or answered:
            super().committed(reservation)
            return
        was, learned = entry.answer, entry.windows.get(LEARNED_KEY)
        limit = None if learned is None else learned.limit
        super().committed(reservation)
        if _may_tell(reservation, entry, was, learned, limit):
            self._tell(reservation, entry, Answer.SERVED, "+", was, learned, limit)

    def _tell(
        self,
        reservation: Reservation,
        entry: KeyModelState,
        answer: Answer,
        run: str,
        was: Answer,
        learned: WindowState | None,
        limit: int | None,
    ) -> None:
        """Write to the shared state what the answer to `reservation` taught of its entry, for
        every replica: a learned window that came, changed or went (`learned`, of `limit`,
        was there before), and the answer itself when its probes wait for it (the entry's
        limits were unknown here, or it was failing)."""
        store = self._store
        if entry.retired or not store.available:
            return
        window = entry.windows.get(LEARNED_KEY)
        moved = _learned_moved(window, learned, limit)
        told = "" if answer is Answer.NONE else answer.value
        waited_for = not (reservation.windows or entry.known_elsewhere)
        tells = (waited_for or Answer.FAILED in (was, entry.answer)) and bool(told or run)
        if tells and was is answer is Answer.SERVED and entry.served_run > TOLD_RUN_MAX:
            tells = False
        if not (moved or tells):
            return
        keys, model = self._keys_of(reservation), model_name(reservation.model)
        free = "1" if is_free_model(reservation.model) else "0"
        now = self._clock.now() + wall_offset(self._clock)
        if moved:
            args: list[Arg] = [now, model, free, _LEARNED, *self._learned_args(entry, learned)]
            store.send("learn", keys, [*args, PROBE_CHANNEL])
        if tells:
            store.send("answer", keys, [now, model, free, told, run, PROBE_CHANNEL])

    def _learned_args(self, entry: KeyModelState, learned: WindowState | None) -> list[Arg]:
        """LEARN's limit, remaining, reset and period for `entry`'s learned window: all of it
        when it is new, its limit when only that moved (the fleet counts what is left), nothing
        when it went (`learned`: the window before)."""
        window = entry.windows.get(LEARNED_KEY)
        if window is None or window.limit is None:
            return ["", "", "", ""]
        period = entry.learning.period_s or UNKNOWN_RESET_S
        if window is learned:
            return [window.limit, "", "", period]
        reset = "" if window.reset_at is None else window.reset_at + wall_offset(self._clock)
        return [window.limit, max(0, window.limit - entry.learning.served), reset, period]

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
            place = self._places.get(reservation)
            if place is not None:
                renewed.setdefault(place, [expiry]).append(lease)
        for keys, args in renewed.items():
            self._store.send("renew", keys, args)  # dropped while Redis is away
        when = self._clock.now() + self._lease_s / RENEWALS_PER_LEASE
        self._renewal = self._clock.call_at(when, self._renew)

    def _keys_of(self, reservation: Reservation) -> SlotKeys:
        """The Redis keys of the provider key `reservation` holds (of its provider, when its
        keys share their limits); see `names`."""
        provider_id, api_key = reservation.provider_id, reservation.api_key
        keys = self._slot_keys.get((provider_id, api_key))
        return self._slot_keys_of(provider_id, api_key) if keys is None else keys

    def _slot_keys_of(self, provider_id: str, api_key: str) -> SlotKeys:
        keys = self._slot_keys.get((provider_id, api_key))
        if keys is None:
            keys = self._slot_keys[(provider_id, api_key)] = provider_key_slot(
                self, provider_id, api_key
            )
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
            "1" if force else "q" if self.queue_mode else "0",
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
                window.window.seconds or _learned_period(window, reservation) or UNKNOWN_RESET_S,
                window.source.value,
            ]
        return args

    def _spends(self, reservation: Reservation, used_tokens: int | None) -> list[Arg]:
        """(window name, amount) of each window `reservation` holds that no answer reported:
        what it spent there is counted by hand, as the local tracker does."""
        unreported = [w for w in reservation.windows if id(w) not in reservation.observed]
        names = self._window_names(reservation) if unreported else {}
        tokens = reservation.tokens if used_tokens is None else used_tokens
        spends: list[Arg] = []
        for window in unreported:
            name = names.get(id(window))
            amount = 1 if window.kind is MetricKind.REQUESTS else tokens
            if name is not None and amount:
                spends += [name, amount]
        if not reservation.observed and _LEARNED not in spends:
            # An answer that reported nothing spends its entry's learned window wherever it
            # was learned: in the shared state it is the fleet's, held here or not. (Not at
            # an entry known nowhere that has served on and on: it has none to spend.)
            entry = reservation.entry
            if entry is None or entry.known_elsewhere or entry.served_run <= TOLD_RUN_MAX:
                spends += [_LEARNED, 1]
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


def provider_key_slot(tracker: LimitTracker, provider_id: str, api_key: str) -> SlotKeys:
    """The Redis keys of `api_key` of `provider_id` (of its provider, when its keys share their
    limits); see `names`."""
    if tracker.slot(provider_id, 1) == 0:  # its keys share their limits: one slot
        return slot_keys(provider_id, ALL_KEYS)
    return slot_keys(provider_id, key_fingerprint(provider_id, api_key))


def lease_length_s(timeout_s: float) -> float:
    """How long a reservation whose attempt may take `timeout_s` holds its share when nothing
    renews it (its replica died): the timeout plus a margin for what the timeout does not
    cover, a request ending moments after its timeout fires and replicas' clocks disagreeing
    (each sweeps leases by its own). Those are small, and the margin is what a dead replica's
    capacity waits for beyond the timeout: a third of the timeout, so short timeouts get their
    capacity back soon (3 s: after 5 s, not 13), at least `LEASE_MARGIN_MIN_S` (a stalled
    event loop or clock skew of a second), at most `LEASE_MARGIN_MAX_S` (the default 30 s
    timeout, and any longer, keep the 10 s the margin always was)."""
    margin = min(max(timeout_s * LEASE_MARGIN_SHARE, LEASE_MARGIN_MIN_S), LEASE_MARGIN_MAX_S)
    return timeout_s + margin


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


def _may_tell(
    reservation: Reservation,
    entry: KeyModelState,
    was: Answer,
    learned: WindowState | None,
    limit: int | None,
) -> bool:
    """Whether an answer to `reservation` may have something to tell the fleet (`_tell`
    decides): its entry's limits were unknown here (but not one more answer served past
    `TOLD_RUN_MAX` in a row), it was or is failing, or its learned window (`learned`, of
    `limit`, before) moved. Every answer asks, so it costs one call and a few comparisons:
    none of `_tell`'s work for an entry whose headers state its limits, or one that serves
    on and on without stating any."""
    return (
        (
            not reservation.windows
            and (
                entry.served_run <= TOLD_RUN_MAX
                or was is not Answer.SERVED
                or entry.answer is not Answer.SERVED
            )
        )
        or Answer.FAILED in (was, entry.answer)
        or entry.windows.get(LEARNED_KEY) is not learned
        or (learned is not None and learned.limit != limit)
    )


def _learned_moved(
    window: WindowState | None, learned: WindowState | None, limit: int | None
) -> bool:
    """Whether the learned window is not the one of `limit` that was there (`learned`): it
    came, changed or went. A header window in its place (a provider's requests of an unknown
    period) is the shared state's already, through its report."""
    if window is not None and window.source is not Source.LEARNED:
        return False
    if window is None:
        return learned is not None and learned.source is Source.LEARNED
    return window is not learned or window.limit != limit


def _learned_period(window: WindowState, reservation: Reservation) -> float | None:
    """The length of a learned window (a provider's window of unknown length has none)."""
    entry = reservation.entry
    if window.source is not Source.LEARNED or entry is None:
        return None
    return entry.learning.period_s
