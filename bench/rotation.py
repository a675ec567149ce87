"""Benchmarks that compare several targets in alternating rounds (`upstream_clients.py`: the
relay and two upstream clients; `state_store.py`: the memory and Redis stores): the order of
each round, what a round measured, and the table's medians and per-round ratio spreads."""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from overhead import Measurement, _connections
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


def round_options(
    description: str, *, rounds: int, concurrency: tuple[int, ...]
) -> argparse.ArgumentParser:
    """A parser with the options every alternating-rounds benchmark takes: `--duration`,
    `--warmup`, `--rounds` and `--concurrency` (read back, checked, by `parsed`)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--duration", type=int, default=5, help="seconds per measured run")
    parser.add_argument("--warmup", type=int, default=1, help="seconds of warm-up per run")
    parser.add_argument("--rounds", type=int, default=rounds, help="rounds per cell")
    example = ",".join(map(str, concurrency if len(concurrency) > 1 else (*concurrency, 128)))
    parser.add_argument(
        "--concurrency", type=_connections, default=concurrency, help=f"e.g. {example}"
    )
    return parser


def parsed(parser: argparse.ArgumentParser, argv: Sequence[str]) -> argparse.Namespace:
    """`argv` read by a `round_options` parser, its run lengths checked."""
    args = parser.parse_args(argv)
    if args.duration < 1 or args.warmup < 0 or args.rounds < 1:
        parser.error("--duration and --rounds must be >= 1 and --warmup >= 0")
    return args
