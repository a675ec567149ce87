"""How long an entry sits out after a failure. Pure arithmetic, no state."""

from __future__ import annotations

from dataclasses import dataclass

MAX_BACKOFF_S = 3600.0


@dataclass(frozen=True, slots=True)
class CooldownPolicy:
    """Cooldown lengths in seconds, taken from the settings."""

    default_s: float
    failure_penalty_s: float
    payment_s: float
    mid_stream_threshold: int
    mid_stream_s: float
    mid_stream_max_s: float

    def rate_limited(self, now: float, retry_at: float | None, strikes: int) -> float:
        """Until when a 429 benches an entry: the provider's own time wins; else back off.

        `strikes` counts the consecutive 429s that came without timing information,
        this one included: the wait doubles from `default_s` up to an hour.
        """
        if retry_at is not None and retry_at > now:
            return retry_at
        backoff = self.default_s * 2.0 ** max(0, strikes - 1)
        return now + min(backoff, max(MAX_BACKOFF_S, self.default_s))

    def mid_stream(self, now: float, escalations: int) -> float:
        """Until when an entry whose streams keep breaking sits out (doubling, capped)."""
        length = self.mid_stream_s * 2.0**escalations
        return now + min(length, self.mid_stream_max_s)
