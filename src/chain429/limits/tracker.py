"""Admission, reservations and cooldowns per (provider, key, model), on an injected clock.

`admit` grants a `Reservation` (counted in flight until `release`) or returns a `Skip` saying
why the entry cannot be used and until when. A skip costs no upstream call. `observe` applies
what a response's headers and body report; `record` applies what an attempt's outcome teaches:
a 429 cools the entry down until the provider's reset, a 402 cools the key down, a 401/403 sets
the key aside and a 404 the entry until the config changes, transport failures cost a short
penalty, and repeatedly broken streams escalate. While an entry's limits are unknown, or after
a failure, only probes are admitted (`limits.probe`); an entry whose answers state no limit
learns one from its 429s (`limits.learned`).

The state is kept per (provider, key slot, model) in `KeyModelState` and per key in `KeyState`;
callers read it through `model_states`, `model_state`, `key_state` and friends, never the tables.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from chain429.clock import Clock
from chain429.config.keys import key_label as key_label  # its home was here: kept importable
from chain429.config.schema import ProviderConfig, Settings
from chain429.limits import learned
from chain429.limits.carryover import carry_over, moves_between, revise
from chain429.limits.cooldown import CappedWait, CooldownPolicy
from chain429.limits.holdings import holdings
from chain429.limits.manual import ManualLimits, manual_windows
from chain429.limits.metric import LimitReport, Metric, MetricKind, Scope, limit_name
from chain429.limits.probe import Answer, ProbeGate, answer_after, served_run
from chain429.limits.setup import NO_TRAITS, ProviderTraits, TrackerSetup
from chain429.limits.state import (
    KeyModel,
    KeyModelState,
    KeyState,
    Reservation,
    hold_amount,
    hold_for_others,
    is_free_model,
)
from chain429.limits.transient import TransientEntries
from chain429.limits.window import UNKNOWN_RESET_S, WindowState, header_window
from chain429.outcome import RULES, Effect, Outcome

PAYMENT_COOLDOWN_S = 3600.0


class SkipReason(StrEnum):
    COOLING_DOWN = "cooling_down"
    FAILING = "failing"
    """Sitting out a failure penalty (5xx, timeout, connect error, broken streams)."""
    OUT_OF_CREDIT = "out_of_credit"
    KEY_DISABLED = "key_disabled"
    ENTRY_DISABLED = "entry_disabled"
    CONCURRENCY_FULL = "concurrency_full"
    REQUESTS_EXHAUSTED = "requests_exhausted"
    TOKENS_EXHAUSTED = "tokens_exhausted"
    TOO_LARGE = "too_large"
    PROBING = "probing"
    """Limits unknown (or the last answer a failure): waiting for the answer of the probes."""


@dataclass(frozen=True, slots=True)
class Skip:
    """Why an entry was passed over without a call, and when it may be usable again."""

    reason: SkipReason
    until: float | None
    detail: str


@dataclass(frozen=True, slots=True)
class Demand:
    """What a request will draw: one request and an estimate of its tokens. `waited`: it has
    waited its whole `probeWaitMs` at the entry (see `limits.probe`: a slow start lets it go)."""

    tokens: int = 0
    waited: bool = False


def policy_from(settings: Settings) -> CooldownPolicy:
    return CooldownPolicy(
        default_s=settings.cooldown_default_ms / 1000,
        failure_penalty_s=settings.failure_penalty_ms / 1000,
        payment_s=PAYMENT_COOLDOWN_S,
        mid_stream_threshold=settings.mid_stream_failure_threshold,
        mid_stream_s=settings.mid_stream_cooldown_ms / 1000,
        mid_stream_max_s=settings.mid_stream_cooldown_max_ms / 1000,
        max_s=settings.max_cooldown_ms / 1000,
    )


class LimitTracker:
    """The limit state of every provider key and model the proxy has used.

    Manual windows come from `limits` (resolved once from the config by `manual_limits`), never
    from the request at hand, so every path that creates a model's state on a key (admission, a
    snapshot restored at startup, an outcome recorded) gives it the same windows. The states of
    models that no chain lists (`listed`, see `transient.listed_entries`) are kept in a bounded
    table (`transient.TransientEntries`).

    A config change (`reconfigure`) keeps the state of every provider key and model that is
    still there, matched by the key itself (`keys`: each provider's keys as the tracker was set
    up with them); see `carryover`."""

    def __init__(
        self,
        policy: CooldownPolicy,
        clock: Clock,
        traits: Mapping[str, ProviderTraits] | None = None,
        limits: ManualLimits | None = None,
        listed: frozenset[tuple[str, str]] = frozenset(),
        keys: Mapping[str, tuple[str, ...]] | None = None,
        probes: ProbeGate | None = None,
    ) -> None:
        self._clock = clock
        self._use(
            TrackerSetup(policy, traits or {}, limits or ManualLimits(), listed, keys or {}, probes)
        )
        self._models: dict[KeyModel, KeyModelState] = {}
        self._keys: dict[tuple[str, int], KeyState] = {}
        self._in_flight: dict[str, int] = {}
        self._entry_in_flight: dict[tuple[str, str], int] = {}  # per (provider, model)
        self._transient = TransientEntries(listed)
        self._listeners: list[Callable[[Reservation], None]] = []
        self._answer_listeners: list[Callable[[Reservation], None]] = []
        self._capped_listeners: list[Callable[[CappedWait], None]] = []

    @classmethod
    def of(cls, setup: TrackerSetup, clock: Clock) -> LimitTracker:
        return cls(
            setup.policy, clock, setup.traits, setup.limits, setup.listed, setup.keys, setup.probes
        )

    def _use(self, setup: TrackerSetup) -> None:
        self._setup = setup
        self._policy, self._traits, self._limits = setup.policy, setup.traits, setup.limits
        self._probes = setup.probes

    def reconfigure(self, setup: TrackerSetup, revised: frozenset[str] = frozenset()) -> None:
        """Follow a config change: the state of every (provider, key, model) still there is
        kept wherever its key now sits, the rest is dropped, manual windows follow changed
        limits, and what was set aside for the config gets another chance (`carryover`).
        `revised` names the providers whose config changed other than in their keys."""
        old = self._setup
        moves = moves_between(old, setup)
        carried = carry_over(self._models, self._keys, moves, old.listed - setup.listed)
        self._use(setup)
        self._models, self._keys = carried.models, carried.keys
        self._transient.relist(setup.listed, carried.moved, self._models)
        revise(self._models, self._keys, old, setup, revised, self._clock.now(), self._clock)

    def on_release(self, listener: Callable[[Reservation], None]) -> None:
        """Call `listener` with every reservation released (capacity may have returned)."""
        self._listeners.append(listener)

    def on_answer(self, listener: Callable[[Reservation], None]) -> None:
        """Call `listener` with every reservation whose answer was recorded or committed (what
        the probes of its entry were waiting for)."""
        self._answer_listeners.append(listener)

    def on_answer_elsewhere(self, listener: Callable[[str, str], None]) -> None:
        """Call `listener` with (provider id, model) when an answer on that entry reached this
        process from another one sharing its limit state (never, for this tracker: its state
        is its own; see `state_store.shared_tracker`)."""

    def on_capped(self, listener: Callable[[CappedWait], None]) -> None:
        """Call `listener` with every wait a provider asked for that `maxCooldownMs` cut short."""
        self._capped_listeners.append(listener)

    def admit(
        self,
        provider: ProviderConfig,
        model: str,
        demand: Demand | None = None,
        first_key: int = 0,
    ) -> Reservation | Skip:
        """Reserve a key of `provider` for `model` (the first that can serve, from `first_key`
        on), or say why none can be used now."""
        now = self._clock.now()
        need = demand or Demand()
        full = self._concurrency_full(provider, model)
        if full is not None:
            return full
        best: Skip | None = None
        for index in range(first_key, len(provider.keys)):
            slot = self._slot(provider.id, index)
            checked = self._check(provider, index, slot, model, need, now)
            if isinstance(checked, Skip):
                best = sooner(best, checked)
                continue
            return self._reserve(provider, index, slot, model, need, checked, now)
        assert best is not None
        return best

    shared = False
    """Whether admission also asks a state other processes share (`admit_shared`): False
    for this tracker, whose state is its process's own (`settings.stateStore: memory`)."""

    queue_mode = False
    """Whether a request an entry refuses may wait for it (`settings.queueMode`, set by the
    waterfall): a tracker that shares its state then asks the other replicas to tell when
    that entry frees up."""

    async def admit_shared(self, reservation: Reservation, demand: Demand) -> Reservation | Skip:
        """`reservation`, granted by `admit`, confirmed against the state every replica
        shares, or the skip that state answers (the reservation is then withdrawn). The
        caller awaits it only when `shared` is true: here there is nothing else to ask."""
        return reservation

    def withdraw(self, reservation: Reservation) -> None:
        """Give back what `reservation` held as if it had never been granted: no request was
        sent, so nothing is spent. Those waiting for an answer on its entry ask again."""
        if self._let_go(reservation, None):
            for listener in self._answer_listeners:
                listener(reservation)

    def force(
        self, provider: ProviderConfig, model: str, demand: Demand | None = None
    ) -> Reservation:
        """Reserve the first key of `provider` for `model` whatever admission would say (a
        probe its caller forces): held, observed, recorded and released like an admitted
        one, so the tracker still learns what the answer says."""
        now = self._clock.now()
        slot = self._slot(provider.id, 0)
        state = self._model_state(provider.id, slot, model)
        windows = tuple(state.windows.values())
        shared = self._keys.get((provider.id, slot))
        if shared is not None:
            windows += _key_windows(shared, model)
        for window in windows:
            window.refresh(now)
        return self._reserve(provider, 0, slot, model, demand or Demand(), windows, now)

    def _reserve(
        self,
        provider: ProviderConfig,
        index: int,
        slot: int,
        model: str,
        need: Demand,
        windows: tuple[WindowState, ...],
        now: float,
    ) -> Reservation:
        """Hold `need` on `windows` for key `index` (in state slot `slot`) of `provider` and
        count it in flight."""
        api_key = provider.keys[index]
        for window in windows:
            window.start(now)
            window.in_flight += hold_amount(window, need.tokens)
        self._in_flight[provider.id] = self._in_flight.get(provider.id, 0) + 1
        pair = (provider.id, model)
        self._entry_in_flight[pair] = self._entry_in_flight.get(pair, 0) + 1
        state = self._models[(provider.id, slot, model)]  # made by the check that found `windows`
        state.in_flight += 1
        key = self._key_state(provider.id, index)
        shared = key if slot == index else self._key_state(provider.id, slot)
        self._transient.used((provider.id, slot, model))
        reservation = Reservation(
            provider.id,
            index,
            key_label(api_key, index),
            api_key,
            model,
            slot,
            need.tokens,
            windows,
            entry=state,
            admitted_at=now,
            key=key,
            shared=shared,
        )
        state.live.add(reservation)
        shared.live.add(reservation)
        return reservation

    def available_at(
        self,
        provider: ProviderConfig,
        model: str,
        demand: Demand | None = None,
        now: float | None = None,
    ) -> float | None:
        """When `provider` may serve `model` next: now, a time, or None (needs a config change).
        `now` is the clock's time if the caller has just read it."""
        if now is None:
            now = self._clock.now()
        need = demand or Demand()
        soonest: float | None = None
        for index in range(len(provider.keys)):
            checked = self._check(provider, index, self._slot(provider.id, index), model, need, now)
            if not isinstance(checked, Skip):
                return now
            if checked.until is not None and (soonest is None or checked.until < soonest):
                soonest = checked.until
        return soonest

    def observe(
        self, reservation: Reservation, report: LimitReport, now: float | None = None
    ) -> None:
        """Apply what one response's headers and body reported about its entry and key (at
        `now`, the clock's time when the response was read, if the caller has it).

        The provider has counted this request by now, so its hold on request windows ends here
        (a long stream must not count twice while it is relayed). A window seen for the first
        time starts with the holds of the other requests still in flight on it."""
        if not report.metrics:
            return
        held_states = self._held(reservation)
        if held_states is None:
            return
        state, _, key = held_states
        if now is None:
            now = self._clock.now()
        held = {id(w) for w in reservation.windows}
        for reported in report.metrics:
            metric = self._within_max_cooldown(reservation, reported, now)
            if metric.scope is Scope.MODEL:
                windows: dict[Any, WindowState] = state.windows
                wkey: tuple[Any, ...] = (metric.kind, metric.window)
                live = state.live
            else:
                windows, wkey, live = (
                    key.windows,
                    (metric.kind, metric.window, metric.scope),
                    key.live,
                )
            window = windows.get(wkey)
            if window is None:
                window = windows[wkey] = header_window(metric, now)
                hold_for_others(window, metric.scope, live, reservation)
            else:
                window.refresh(now)
                window.observe(metric, now)
            if window.reset_at is not None:  # an empty window with no reset waits a default
                window.reset_at = min(window.reset_at, self._policy.latest(now))
            wid = id(window)
            reservation.observed |= {wid}
            if (
                wid in held
                and window.kind is MetricKind.REQUESTS
                and wid not in reservation.settled
            ):
                window.in_flight -= 1
                reservation.settled |= {wid}

    def release(self, reservation: Reservation, used_tokens: int | None = None) -> None:
        """Give back what `reservation` held; count what it spent that no header reported."""
        spent = reservation.tokens if used_tokens is None else used_tokens
        if self._let_go(reservation, spent):
            for listener in self._listeners:
                listener(reservation)

    def _let_go(self, reservation: Reservation, spent: int | None) -> bool:
        """Count `reservation` out of everything it holds, once (False when it already was);
        with `spent`, each window no header reported spends one request or `spent` tokens."""
        if reservation.released:
            return False
        reservation.released = True
        for window in reservation.windows:
            if id(window) not in reservation.settled:
                window.in_flight -= hold_amount(window, reservation.tokens)
            if spent is not None and id(window) not in reservation.observed:
                window.spend(1 if window.kind is MetricKind.REQUESTS else spent)
        _count_down(self._in_flight, reservation.provider_id)
        _count_down(self._entry_in_flight, (reservation.provider_id, reservation.model))
        state = reservation.entry
        if state is not None:
            state.in_flight -= 1
            state.live.discard(reservation)
        if reservation.shared is not None:
            reservation.shared.live.discard(reservation)
        return True

    def record(
        self,
        reservation: Reservation,
        outcome: Outcome,
        retry_at: float | None = None,
        reason: str = "",
        scope: Scope = Scope.MODEL,
        now: float | None = None,
    ) -> None:
        """Apply what one attempt's outcome says about its entry and key (after `release`);
        `now` is when the outcome was learnt, if the caller read the clock then."""
        held = self._held(reservation)
        if held is None:
            return
        state, key, shared = held
        if now is None:
            now = self._clock.now()
        state.answer = answer_after(outcome, state.answer)
        if not reservation.answered:
            state.served_run = served_run(outcome, state.served_run)
        self._learn(reservation, state, shared, outcome, retry_at, scope, state.in_flight, now)
        effect = RULES[outcome].effect
        if effect is Effect.CLEARED:
            state.untimed_strikes = 0
            self._served(state)
        elif effect is Effect.COOLDOWN:
            why = reason or "rate limited (429)"
            if retry_at is not None and retry_at > self._policy.latest(now):
                told = f"retry time {retry_at - now:g}s"
                retry_at = self._capped(reservation, retry_at, now, told)
            self._rate_limited(shared, state, retry_at, why, scope, now)
        elif effect is Effect.NO_CREDIT:
            key.credit_until = max(key.credit_until, now + self._policy.payment_s)
        elif effect is Effect.KEY_DISABLED:
            key.disabled = reason or "key rejected (401/403)"
        elif effect is Effect.ENTRY_DISABLED:
            state.disabled = reason or "model not found (404)"
        elif effect is Effect.MID_STREAM:
            self._mid_stream(state, now)
        elif effect is Effect.PENALTY:
            until = now + self._policy.failure_penalty_s
            _cool_down(state, until, reason or outcome.value, penalty=True)
        for listener in self._answer_listeners:
            listener(reservation)

    def committed(self, reservation: Reservation) -> None:
        """A stream reached its commit point: the provider took the request, and the probes of
        its entry have their answer (its outcome is recorded when the stream ends)."""
        held = self._held(reservation)
        if held is not None and not reservation.answered:
            state, _, shared = held
            state.answer = Answer.SERVED
            state.served_run += 1
            others, now = state.in_flight - 1, self._clock.now()
            self._learn(reservation, state, shared, Outcome.SERVED, None, Scope.MODEL, others, now)
            reservation.answered = True
        for listener in self._answer_listeners:
            listener(reservation)

    def _within_max_cooldown(self, reservation: Reservation, metric: Metric, now: float) -> Metric:
        """`metric` with a reset no later than `maxCooldownMs` from now (a window that far off
        would bench the entry that long once empty); the cut is told when the window is empty."""
        reset_at = metric.reset_at
        latest = self._policy.latest(now)
        if reset_at is None or reset_at <= latest:
            return metric
        if metric.remaining is not None and metric.remaining <= 0:
            told = "; ".join(f"{name}: {value}" for name, value in metric.raw)
            latest = self._capped(reservation, reset_at, now, told or f"reset {reset_at - now:g}s")
        return replace(metric, reset_at=latest)

    def _capped(self, reservation: Reservation, until: float, now: float, told: str) -> float:
        latest = self._policy.latest(now)
        capped = CappedWait(
            reservation.provider_id,
            reservation.model,
            reservation.key_label,
            until - now,
            self._policy.max_s,
            told,
        )
        for listener in self._capped_listeners:
            listener(capped)
        return latest

    def _rate_limited(
        self,
        key: KeyState,
        state: KeyModelState,
        retry_at: float | None,
        reason: str,
        scope: Scope,
        now: float,
    ) -> None:
        exhausted_reset = _latest_exhausted_reset(state, now)
        if retry_at is None:
            retry_at = exhausted_reset
        elif exhausted_reset is not None and retry_at - 1.0 <= exhausted_reset < retry_at:
            retry_at = exhausted_reset  # a whole-second retry-after rounds the exact reset up
        if retry_at is not None:
            state.untimed_strikes = 0
        elif state.cooldown_until <= now:
            # One strike per episode: an entry is admitted only while it is not cooling down, so
            # a 429 arriving during a cooldown answers a request sent before the cooldown began.
            state.untimed_strikes += 1
        until = self._policy.rate_limited(now, retry_at, state.untimed_strikes)
        _cool_down(state, until, reason)
        if scope is Scope.MODEL:
            return
        if scope is Scope.ACCOUNT:
            key.cooldown_until = max(key.cooldown_until, until)
        else:
            key.free_cooldown_until = max(key.free_cooldown_until, until)
        key.reason = reason

    def _learn(
        self,
        reservation: Reservation,
        state: KeyModelState,
        shared: KeyState,
        outcome: Outcome,
        retry_at: float | None,
        scope: Scope,
        others: int,
        now: float,
    ) -> None:
        """Count what a header-less entry's answer teaches of its limit (`limits.learned`);
        `others` requests are still out. A stream counts when it commits, not again at its end."""
        learning, windows = state.learning, state.windows
        model = reservation.model
        key_windows = bool(shared.windows) and any(
            key_window_applies(wide, model) for _, _, wide in shared.windows
        )
        if not learned.learns(windows, key_windows):
            if learning.start is not None or learning.limit is not None:
                learned.forget(learning, windows)
            return
        if outcome in (Outcome.SERVED, Outcome.MID_STREAM_FAILURE):
            if not reservation.answered:
                learned.served(learning, windows, reservation.admitted_at, now, others)
        elif outcome is Outcome.RATE_LIMITED and scope is Scope.MODEL:
            admitted_at = reservation.admitted_at
            learned.refused(learning, windows, admitted_at, retry_at, now, others)

    def _served(self, state: KeyModelState) -> None:
        """An entry that serves cleanly again earns its mid-stream escalations back, one for
        every `mid_stream_threshold` answers served in a row (as many as it takes broken
        streams in a row to earn one)."""
        state.mid_stream_failures = 0
        if state.mid_stream_escalations == 0:
            return
        state.clean_serves += 1
        if state.clean_serves >= self._policy.mid_stream_threshold:
            state.mid_stream_escalations -= 1
            state.clean_serves = 0

    def _mid_stream(self, state: KeyModelState, now: float) -> None:
        state.clean_serves = 0
        state.mid_stream_failures += 1
        if state.mid_stream_failures < self._policy.mid_stream_threshold:
            return
        until = self._policy.mid_stream(now, state.mid_stream_escalations)
        state.mid_stream_escalations += 1
        state.mid_stream_failures = 0
        _cool_down(state, until, "streams keep failing mid-way", penalty=True)

    def _check(
        self,
        provider: ProviderConfig,
        index: int,
        slot: int,
        model: str,
        need: Demand,
        now: float,
    ) -> Skip | tuple[WindowState, ...]:
        """Why key `index` cannot serve `model` now, or the windows a reservation would hold."""
        key = self._keys.get((provider.id, index))
        if key is not None:
            if key.disabled is not None:
                return Skip(SkipReason.KEY_DISABLED, None, key.disabled)
            if key.credit_until > now:
                return Skip(SkipReason.OUT_OF_CREDIT, key.credit_until, "out of credit (402)")
        shared = self._keys.get((provider.id, slot))
        if shared is not None:
            if shared.cooldown_until > now:
                return Skip(SkipReason.COOLING_DOWN, shared.cooldown_until, shared.reason)
            if shared.free_cooldown_until > now and is_free_model(model):
                return Skip(SkipReason.COOLING_DOWN, shared.free_cooldown_until, shared.reason)
        state = self._model_state(provider.id, slot, model)
        if state.disabled is not None:
            return Skip(SkipReason.ENTRY_DISABLED, None, state.disabled)
        if state.cooldown_until > now:
            why = SkipReason.FAILING if state.penalised else SkipReason.COOLING_DOWN
            return Skip(why, state.cooldown_until, state.reason)
        windows = tuple(state.windows.values())
        if shared is not None and shared.windows:
            windows += _key_windows(shared, model)
        for window in windows:
            skip = _window_skip(window, need.tokens, now)
            if skip is not None:
                return skip
        if self._probes is not None:
            run, waited = state.served_run, need.waited
            known = bool(windows) or state.known_elsewhere
            held = self._probes.holds(state.answer, known, state.in_flight, run, waited)
            if held is not None:
                return Skip(SkipReason.PROBING, now, held)
        return windows

    def _concurrency_full(self, provider: ProviderConfig, model: str) -> Skip | None:
        limits = provider.rate_limits
        if limits and limits.concurrent_requests is not None:
            if self._in_flight.get(provider.id, 0) >= limits.concurrent_requests:
                return Skip(SkipReason.CONCURRENCY_FULL, None, "concurrent request limit reached")
        entry_limits = self._limits.for_entry(provider.id, model)
        if entry_limits and entry_limits.concurrent_requests is not None:
            in_flight = self._entry_in_flight.get((provider.id, model), 0)
            if in_flight >= entry_limits.concurrent_requests:
                return Skip(SkipReason.CONCURRENCY_FULL, None, "entry concurrency limit reached")
        return None

    def model_states(self) -> Iterator[tuple[KeyModel, KeyModelState]]:
        """Every (provider, key slot, model) the tracker holds state for, with that state."""
        return iter(self._models.items())

    def key_states(self) -> Iterator[tuple[tuple[str, int], KeyState]]:
        """Every (provider, key index or slot) the tracker holds state for, with that state."""
        return iter(self._keys.items())

    def model_state(self, provider_id: str, slot: int, model: str) -> KeyModelState | None:
        """What key slot `slot` of `provider_id` has said about `model`, if anything."""
        return self._models.get((provider_id, slot, model))

    def key_state(self, provider_id: str, index: int) -> KeyState | None:
        """What key `index` (or key slot) of `provider_id` has said, if anything."""
        return self._keys.get((provider_id, index))

    def holdings(self) -> list[str]:
        """What the reservations in flight hold, one line per counter (`limits.holdings`):
        empty once every request has ended."""
        return holdings(
            self._in_flight, self._entry_in_flight, self._models.items(), self._keys.items()
        )

    def holds_key_windows(self, reservation: Reservation) -> bool:
        """Whether the key slot `reservation` was granted on has key-wide windows, which every
        model of its provider draws on."""
        shared = reservation.shared
        return shared is not None and bool(shared.windows)

    def key_has_windows(self, provider_id: str, slot: int) -> bool:
        """Whether key slot `slot` of `provider_id` has key-wide windows, which every model of
        the provider draws on."""
        key = self._keys.get((provider_id, slot))
        return key is not None and bool(key.windows)

    def ensure_model_state(self, provider_id: str, slot: int, model: str) -> KeyModelState:
        """The state of `model` on key slot `slot`, created with its manual windows when new
        (a snapshot restores into it)."""
        return self._model_state(provider_id, slot, model)

    def ensure_key_state(self, provider_id: str, index: int) -> KeyState:
        return self._key_state(provider_id, index)

    def slot(self, provider_id: str, index: int) -> int:
        """The state slot of key `index`: 0 for every key when the keys share their limits."""
        return self._slot(provider_id, index)

    def _slot(self, provider_id: str, index: int) -> int:
        traits = self._traits.get(provider_id)
        return 0 if traits is not None and traits.keys_share_limits else index

    def _model_state(self, provider_id: str, slot: int, model: str) -> KeyModelState:
        state = self._models.get((provider_id, slot, model))
        if state is None:
            state = KeyModelState()
            zone = self._traits.get(provider_id, NO_TRAITS).zone
            manual = self._limits.for_entry(provider_id, model)
            for window in manual_windows(manual, zone, self._clock.now(), self._clock):
                state.windows[(window.kind, window.window)] = window
            self._models[(provider_id, slot, model)] = state
            self._transient.created((provider_id, slot, model), self._models)
        return state

    def _key_state(self, provider_id: str, index: int) -> KeyState:
        key = self._keys.get((provider_id, index))
        if key is None:
            key = self._keys[(provider_id, index)] = KeyState()
        return key

    def _held(self, reservation: Reservation) -> tuple[KeyModelState, KeyState, KeyState] | None:
        """The states `reservation` teaches about (its entry, its key, its key slot): those it
        was granted on, or for one made outside admission those at its position; None when a
        config change dropped them (its provider, key or model is gone)."""
        entry, key, shared = reservation.entry, reservation.key, reservation.shared
        if entry is None or key is None or shared is None:
            provider_id, slot = reservation.provider_id, reservation.slot
            entry = self._model_state(provider_id, slot, reservation.model)
            key = self._key_state(provider_id, reservation.key_index)
            shared = self._key_state(provider_id, slot)
        if entry.retired or key.retired or shared.retired:
            return None
        return entry, key, shared


def _count_down(counts: dict[Any, int], key: Any) -> None:
    """One fewer in flight under `key`; a count that reaches zero leaves the table."""
    left = counts.get(key, 1) - 1
    if left > 0:
        counts[key] = left
    else:
        counts.pop(key, None)


def _window_skip(window: WindowState, tokens: int, now: float) -> Skip | None:
    window.refresh(now)
    headroom = window.headroom()
    if headroom is None:
        return None
    until = window.reset_at if window.reset_at is not None else now + UNKNOWN_RESET_S
    if window.kind is MetricKind.REQUESTS:
        if headroom <= 0:
            return Skip(SkipReason.REQUESTS_EXHAUSTED, until, f"{_label(window)} exhausted")
        return None
    if window.limit is not None and tokens > window.limit:
        detail = f"request needs more than the {_label(window)} allows"
        return Skip(SkipReason.TOO_LARGE, None, detail)
    if headroom <= 0 or tokens > headroom:
        return Skip(SkipReason.TOKENS_EXHAUSTED, until, f"{_label(window)} exhausted")
    return None


def _label(window: WindowState) -> str:
    """A window's name in a skip's detail, built only when the window refuses."""
    return limit_name(window.kind, window.window)


def _key_windows(key: KeyState, model: str) -> tuple[WindowState, ...]:
    return tuple(w for (_, _, scope), w in key.windows.items() if key_window_applies(scope, model))


def key_window_applies(scope: Scope, model: str) -> bool:
    """Whether a key-wide window of `scope` limits requests for `model`."""
    return scope is Scope.ACCOUNT or (scope is Scope.FREE_MODELS and is_free_model(model))


def _latest_exhausted_reset(state: KeyModelState, now: float) -> float | None:
    resets = [
        w.reset_at
        for w in state.windows.values()
        if w.reset_at is not None
        and w.reset_at > now
        and (w.headroom() or 0) <= 0
        and w.remaining is not None
    ]
    return max(resets) if resets else None


def _cool_down(state: KeyModelState, until: float, reason: str, *, penalty: bool = False) -> None:
    """A new cooldown never shortens a running one; the entry is penalised (failing rather than
    rate-limited) while the cooldown that ends last is a failure penalty."""
    if until > state.cooldown_until:
        state.cooldown_until = until
        state.penalised = penalty
        state.reason = reason
    elif penalty == state.penalised:
        state.reason = reason


def sooner(current: Skip | None, candidate: Skip) -> Skip:
    """The skip of the two that ends first (one with no end loses to one with an end)."""
    if current is None:
        return candidate
    if candidate.until is not None and (current.until is None or candidate.until < current.until):
        return candidate
    return current
