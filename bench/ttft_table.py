"""The time-to-first-token benchmark's table: per target, percentiles and spreads over rounds."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from overhead_table import Spread
from ttft_client import Timing

TARGETS = ("direct", "relay", "429chain")


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank `q` percentile (0 < q <= 100) of `values`."""
    if not values:
        raise ValueError("a percentile needs at least one value")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


@dataclass(frozen=True, slots=True)
class TtftRound:
    """One round: every target's timings, the targets taking turns request by request."""

    timings: dict[str, list[Timing]]

    def p50_ms(self, target: str, field: str = "first_token_s") -> float:
        return percentile([getattr(t, field) for t in self.timings[target]], 50) * 1000

    def added_ms(self, target: str, versus: str = "direct") -> float:
        """`target`'s median time to first token minus `versus`'s, in this round."""
        return self.p50_ms(target) - self.p50_ms(versus)


def _pooled(rounds: Sequence[TtftRound], target: str, field: str) -> list[float]:
    return [getattr(t, field) * 1000 for r in rounds for t in r.timings[target]]


def _ms(value: float) -> str:
    return f"{value:.2f}"


def ttft_table(rounds: Sequence[TtftRound]) -> str:
    """One row per target; times in ms. Spreads are over the rounds' medians; p50/p99 pool
    every request of every round; `added` is the target's median TTFT minus direct's (and
    minus the relay's) in the same round."""
    header = (
        "| target | requests | TTFT p50 min / med / max | TTFT p50 | TTFT p99 | headers p50 "
        "| total p50 | total p99 | added TTFT p50 vs direct min / med / max "
        "| added TTFT p99 vs direct | added TTFT p50 vs relay |"
    )
    lines = [header, "| --- |" + " ---: |" * 10]
    for target in TARGETS:
        ttft = _pooled(rounds, target, "first_token_s")
        direct_ttft = _pooled(rounds, "direct", "first_token_s")
        per_round = Spread.of(r.p50_ms(target) for r in rounds)
        if target == "direct":
            added = added_p99 = versus_relay = ""
        else:
            added = Spread.of(r.added_ms(target) for r in rounds).show(_ms)
            added_p99 = _ms(percentile(ttft, 99) - percentile(direct_ttft, 99))
            versus_relay = (
                _ms(statistics.median(r.added_ms(target, "relay") for r in rounds))
                if target != "relay"
                else ""
            )
        total = _pooled(rounds, target, "total_s")
        cells = [
            target,
            str(len(ttft)),
            per_round.show(_ms),
            _ms(percentile(ttft, 50)),
            _ms(percentile(ttft, 99)),
            _ms(percentile(_pooled(rounds, target, "headers_s"), 50)),
            _ms(percentile(total, 50)),
            _ms(percentile(total, 99)),
            added,
            added_p99,
            versus_relay,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
