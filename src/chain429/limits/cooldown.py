"""How long an entry sits out after a failure. Pure arithmetic, no state."""

from __future__ import annotations

import math
from dataclasses import dataclass

MAX_BACKOFF_S = 3600.0
#: `maxCooldownMs`'s default: a week.
DEFAULT_MAX_COOLDOWN_S = 7 * 86_400.0


@dataclass(frozen=True, slots=True)
class CooldownPolicy:
    """Cooldown lengths in seconds, taken from the settings."""

    default_s: float
    failure_penalty_s: float
    payment_s: float
    mid_stream_threshold: int
    mid_stream_s: float
    mid_stream_max_s: float
    max_s: float = DEFAULT_MAX_COOLDOWN_S
    """The longest any provider's answer may bench an entry or key (`maxCooldownMs`)."""

    def latest(self, now: float) -> float:
        """The latest time a cooldown starting `now` may end."""
        return now + self.max_s

    def rate_limited(self, now: float, retry_at: float | None, strikes: int) -> float:
        """Until when a 429 cools an entry down: the provider's own time wins; else back off.

        `strikes` counts the cooldown episodes in a row whose 429s came without timing
        information, this one included: the wait doubles from `default_s` up to an hour.
        """
        if retry_at is not None and retry_at > now:
            return min(retry_at, self.latest(now))
        cap = min(max(MAX_BACKOFF_S, self.default_s), self.max_s)
        return now + doubled(self.default_s, strikes - 1, cap)

    def mid_stream(self, now: float, escalations: int) -> float:
        """Until when an entry whose streams keep breaking sits out (doubling, capped)."""
        return now + doubled(self.mid_stream_s, escalations, self.mid_stream_max_s)


@dataclass(frozen=True, slots=True)
class CappedWait:
    """A provider asked an entry to wait longer than `maxCooldownMs`; the wait was cut to it.
    `told` is what said so: the headers as they came, or the retry time when no header did."""

    provider_id: str
    model: str
    key_label: str
    asked_s: float
    capped_s: float
    told: str


def doubled(base: float, times: int, cap: float) -> float:
    """`base` doubled `times` times (none when negative), at most `cap`.

    The number of doublings is capped before the power is taken, so any count of strikes, however
    large, gives a finite length (2.0 ** 1024 would overflow)."""
    if base <= 0 or base >= cap or times <= 0:
        return min(base, cap)
    enough = math.ceil(math.log2(cap / base))
    return min(base * 2.0 ** min(times, enough), cap)
