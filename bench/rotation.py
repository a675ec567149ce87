"""Benchmarks that compare several targets in alternating rounds (`upstream_clients.py`: the
relay and two upstream clients; `state_store.py`: the memory and Redis stores): the order of
each round, what a round measured, and the table's medians and per-round ratio spreads."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from overhead import Measurement
from overhead_table import Spread, ratio


def round_order(targets: tuple[str, ...], index: int) -> tuple[str, ...]:
    """`targets` in the order round `index` measures them: each round starts one further, so
    no target always follows another."""
    start = index % len(targets)
    return targets[start:] + targets[:start]


def cpu_us(measured: Measurement) -> float:
    """CPU µs of the target's process per request of one measurement."""
    return ratio(measured.cpu_s * 1e6, measured.result.requests)


@dataclass(frozen=True, slots=True)
class Round:
    """One round of a cell: requests/s and CPU µs per request of each target."""

    rps: dict[str, float]
    cpu_us: dict[str, float]

    def per(self, target: str, base: str) -> float:
        return ratio(self.rps[target], self.rps[base])


R = TypeVar("R", bound=Round)


@dataclass(frozen=True, slots=True)
class Cell(Generic[R]):
    """The rounds of one answer kind at one connection count."""

    kind: str
    connections: int
    rounds: tuple[R, ...]


def medians(rounds: Iterable[Round], field: str, targets: Sequence[str]) -> dict[str, float]:
    """The median over `rounds` of each target's `field` (`rps`, `cpu_us`, ...)."""
    listed = list(rounds)
    return {t: Spread.of(getattr(r, field)[t] for r in listed).median for t in targets}


def ratio_spreads(rounds: Sequence[Round], ratios: Sequence[tuple[str, str]]) -> list[str]:
    """min / median / max over `rounds` of each (target, base) ratio, as the tables show it."""
    return [
        Spread.of(r.per(target, base) for r in rounds).show(lambda v: f"{v:.3f}")
        for target, base in ratios
    ]
