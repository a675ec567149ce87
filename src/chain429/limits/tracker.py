"""Admission and cooldown state per (provider, key, model), on an injected clock.

`admit` either grants a `Reservation` (counted in flight until `release`) or returns a `Skip`
saying why the entry cannot be used and until when. `record` applies what an attempt's outcome
teaches: a 429 benches the entry until the provider's reset, a 402 benches the key, a 401/403
sets the key aside and a 404 the entry until the config changes, transport failures cost a short
penalty, and repeatedly broken streams escalate.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from chain429.clock import Clock
from chain429.config.schema import ProviderConfig, Settings
from chain429.limits.cooldown import CooldownPolicy
from chain429.outcome import Outcome

PAYMENT_COOLDOWN_S = 3600.0


class SkipReason(StrEnum):
    COOLING_DOWN = "cooling_down"
    OUT_OF_CREDIT = "out_of_credit"
    KEY_DISABLED = "key_disabled"
    ENTRY_DISABLED = "entry_disabled"
    CONCURRENCY_FULL = "concurrency_full"


@dataclass(frozen=True, slots=True)
class Skip:
    """Why an entry was passed over without a call, and when it may be usable again."""

    reason: SkipReason
    until: float | None
    detail: str


@dataclass(frozen=True, slots=True)
class Reservation:
    """A granted admission: which key to use. Must be released exactly once."""

    provider_id: str
    key_index: int
    key_label: str
    api_key: str
    model: str


@dataclass(slots=True)
class _EntryState:
    cooldown_until: float = 0.0
    reason: str = ""
    untimed_strikes: int = 0
    mid_stream_failures: int = 0
    mid_stream_escalations: int = 0
    disabled: str | None = None


@dataclass(slots=True)
class _KeyState:
    credit_until: float = 0.0
    disabled: str | None = None


def key_label(api_key: str) -> str:
    """How a key is named anywhere a person can see it: its last four characters."""
    return "…" + api_key[-4:] if len(api_key) >= 8 else "…"


def policy_from(settings: Settings) -> CooldownPolicy:
    return CooldownPolicy(
        default_s=settings.cooldown_default_ms / 1000,
        failure_penalty_s=settings.failure_penalty_ms / 1000,
        payment_s=PAYMENT_COOLDOWN_S,
        mid_stream_threshold=settings.mid_stream_failure_threshold,
        mid_stream_s=settings.mid_stream_cooldown_ms / 1000,
        mid_stream_max_s=settings.mid_stream_cooldown_max_ms / 1000,
    )


class LimitTracker:
    """The limit state of every provider key and model the proxy has used."""

    def __init__(self, policy: CooldownPolicy, clock: Clock) -> None:
        self._policy = policy
        self._clock = clock
        self._entries: dict[tuple[str, int, str], _EntryState] = {}
        self._keys: dict[tuple[str, int], _KeyState] = {}
        self._in_flight: dict[str, int] = {}

    def admit(self, provider: ProviderConfig, model: str) -> Reservation | Skip:
        """Reserve a key of `provider` for `model`, or say why none can be used now."""
        now = self._clock.now()
        limits = provider.rate_limits
        if limits and limits.concurrent_requests is not None:
            if self._in_flight.get(provider.id, 0) >= limits.concurrent_requests:
                return Skip(SkipReason.CONCURRENCY_FULL, None, "concurrent request limit reached")
        best: Skip | None = None
        for index, api_key in enumerate(provider.keys):
            skip = self._blocked(provider.id, index, model, now)
            if skip is None:
                self._in_flight[provider.id] = self._in_flight.get(provider.id, 0) + 1
                return Reservation(provider.id, index, key_label(api_key), api_key, model)
            best = _sooner(best, skip)
        assert best is not None
        return best

    def available_at(self, provider: ProviderConfig, model: str) -> float | None:
        """When `provider` may serve `model` next: now, a time, or None (needs a config change)."""
        now = self._clock.now()
        soonest: float | None = None
        for index in range(len(provider.keys)):
            skip = self._blocked(provider.id, index, model, now)
            if skip is None or skip.reason is SkipReason.CONCURRENCY_FULL:
                return now
            if skip.until is not None and (soonest is None or skip.until < soonest):
                soonest = skip.until
        return soonest

    def release(self, reservation: Reservation) -> None:
        self._in_flight[reservation.provider_id] -= 1

    def record(
        self,
        reservation: Reservation,
        outcome: Outcome,
        retry_at: float | None = None,
        reason: str = "",
    ) -> None:
        """Apply what one attempt's outcome says about its entry and key."""
        now = self._clock.now()
        entry = self._entry(reservation.provider_id, reservation.key_index, reservation.model)
        policy = self._policy
        if outcome is Outcome.SERVED:
            entry.untimed_strikes = 0
            entry.mid_stream_failures = 0
        elif outcome is Outcome.RATE_LIMITED:
            entry.untimed_strikes = 0 if retry_at is not None else entry.untimed_strikes + 1
            until = policy.rate_limited(now, retry_at, entry.untimed_strikes)
            _bench(entry, until, reason or "rate limited (429)")
        elif outcome is Outcome.PAYMENT_REQUIRED:
            key = self._key(reservation.provider_id, reservation.key_index)
            key.credit_until = max(key.credit_until, now + policy.payment_s)
        elif outcome is Outcome.AUTH_FAILED:
            self._key(reservation.provider_id, reservation.key_index).disabled = (
                reason or "key rejected (401/403)"
            )
        elif outcome is Outcome.NOT_FOUND:
            entry.disabled = reason or "model not found (404)"
        elif outcome is Outcome.MID_STREAM_FAILURE:
            self._record_mid_stream(entry, now)
        elif outcome in _PENALISED:
            _bench(entry, now + policy.failure_penalty_s, reason or outcome.value)

    def _record_mid_stream(self, entry: _EntryState, now: float) -> None:
        entry.mid_stream_failures += 1
        if entry.mid_stream_failures < self._policy.mid_stream_threshold:
            return
        until = self._policy.mid_stream(now, entry.mid_stream_escalations)
        entry.mid_stream_escalations += 1
        entry.mid_stream_failures = 0
        _bench(entry, until, "streams keep failing mid-way")

    def _blocked(self, provider_id: str, index: int, model: str, now: float) -> Skip | None:
        key = self._keys.get((provider_id, index))
        if key is not None:
            if key.disabled is not None:
                return Skip(SkipReason.KEY_DISABLED, None, key.disabled)
            if key.credit_until > now:
                return Skip(SkipReason.OUT_OF_CREDIT, key.credit_until, "out of credit (402)")
        entry = self._entries.get((provider_id, index, model))
        if entry is not None:
            if entry.disabled is not None:
                return Skip(SkipReason.ENTRY_DISABLED, None, entry.disabled)
            if entry.cooldown_until > now:
                return Skip(SkipReason.COOLING_DOWN, entry.cooldown_until, entry.reason)
        return None

    def _entry(self, provider_id: str, index: int, model: str) -> _EntryState:
        return self._entries.setdefault((provider_id, index, model), _EntryState())

    def _key(self, provider_id: str, index: int) -> _KeyState:
        return self._keys.setdefault((provider_id, index), _KeyState())


_PENALISED = frozenset(
    {
        Outcome.SERVER_ERROR,
        Outcome.TIMEOUT,
        Outcome.CONNECT_ERROR,
        Outcome.BAD_RESPONSE,
        Outcome.IN_BAND_ERROR,
    }
)


def _bench(entry: _EntryState, until: float, reason: str) -> None:
    """A new cooldown never shortens a running one."""
    if until > entry.cooldown_until:
        entry.cooldown_until = until
    entry.reason = reason


def _sooner(current: Skip | None, candidate: Skip) -> Skip:
    if current is None:
        return candidate
    if candidate.until is not None and (current.until is None or candidate.until < current.until):
        return candidate
    return current
