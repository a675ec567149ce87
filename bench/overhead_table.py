"""Markdown tables of the overhead benchmark's results."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from wrk import WrkResult


@dataclass(frozen=True, slots=True)
class Cell:
    """One measured cell: the same load, directly against nginx and through the proxy."""

    kind: str
    connections: int
    recording: bool
    direct: WrkResult
    proxy: WrkResult
    proxy_cpu_s: float
    proxy_completed: int  # requests the proxy completed for this cell, warm-up included

    @property
    def ratio(self) -> float:
        return self.proxy.rps / self.direct.rps if self.direct.rps else 0.0

    @property
    def added_p50_us(self) -> int:
        return self.proxy.p50_us - self.direct.p50_us

    @property
    def cpu_per_request_us(self) -> float:
        return self.proxy_cpu_s * 1e6 / self.proxy.requests if self.proxy.requests else 0.0


@dataclass(frozen=True, slots=True)
class ProxySummary:
    """What one proxy process left behind: its memory after the run, the usage rows it wrote."""

    recording: bool
    rss_kib: int
    peak_kib: int
    completed: int
    usage_rows: int | None  # None: no usage database was written at all


def ms(us: float) -> str:
    value = us / 1000
    return f"{value:.2f}" if abs(value) >= 1 else f"{value:.3f}"


def _row(values: Sequence[str]) -> str:
    return "| " + " | ".join(values) + " |"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    rule = ["---" if i < 2 else "---:" for i in range(len(header))]
    return "\n".join([_row(header), _row(rule), *(_row(r) for r in rows)])


def _recording(on: bool) -> str:
    return "on" if on else "off"


def cells_table(cells: Sequence[Cell], *, show_recording: bool) -> str:
    header = [
        "stream",
        "conns",
        "direct req/s",
        "proxy req/s",
        "proxy/direct",
        "direct p50 ms",
        "direct p99 ms",
        "proxy p50 ms",
        "proxy p99 ms",
        "added p50 ms",
        "proxy CPU µs/req",
    ]
    rows = [
        [
            c.kind,
            str(c.connections),
            f"{c.direct.rps:,.0f}",
            f"{c.proxy.rps:,.0f}",
            f"{c.ratio:.3f}",
            ms(c.direct.p50_us),
            ms(c.direct.p99_us),
            ms(c.proxy.p50_us),
            ms(c.proxy.p99_us),
            ms(c.added_p50_us),
            f"{c.cpu_per_request_us:,.0f}",
        ]
        for c in cells
    ]
    if show_recording:
        header.insert(0, "recording")
        for cell, row in zip(cells, rows, strict=True):
            row.insert(0, _recording(cell.recording))
    return _table(header, rows)


def recording_table(cells: Sequence[Cell]) -> str:
    """Proxy figures with recording on against off, cell by cell."""
    off = {(c.kind, c.connections): c for c in cells if not c.recording}
    header = ["stream", "conns", "off req/s", "on req/s", "on/off", "off p50 ms", "on p50 ms"]
    rows = []
    for on in (c for c in cells if c.recording):
        base = off.get((on.kind, on.connections))
        if base is None:
            continue
        ratio = on.proxy.rps / base.proxy.rps if base.proxy.rps else 0.0
        rows.append(
            [
                on.kind,
                str(on.connections),
                f"{base.proxy.rps:,.0f}",
                f"{on.proxy.rps:,.0f}",
                f"{ratio:.3f}",
                ms(base.proxy.p50_us),
                ms(on.proxy.p50_us),
            ]
        )
    return _table(header, rows)


def _usage(summary: ProxySummary) -> str:
    if summary.usage_rows is None:
        return f"{summary.completed:,} requests completed; no usage database written"
    return (
        f"{summary.completed:,} requests completed, {summary.usage_rows:,} request rows in its "
        "usage database (runs cut by wrk add up to one row per connection)"
    )


def summary_lines(summaries: Sequence[ProxySummary]) -> str:
    return "\n".join(
        f"- proxy (recording {_recording(s.recording)}): RSS {s.rss_kib / 1024:.1f} MiB after "
        f"the run (peak {s.peak_kib / 1024:.1f} MiB); {_usage(s)}"
        for s in summaries
    )
