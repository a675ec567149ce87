"""Aggregates over a time range: totals and time series per provider, chain, model or key.

Percentiles use the nearest-rank method computed in SQL with window functions (SQLite >= 3.25
and PostgreSQL both have them), so no row leaves the database. Time buckets are UTC and aligned
to multiples of their width since the epoch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import (
    ColumnElement,
    Connection,
    FunctionElement,
    Integer,
    Select,
    Subquery,
    Table,
    and_,
    case,
    func,
    literal_column,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler

from chain429.usage.schema import ATTEMPTS, REQUESTS


class GroupBy(StrEnum):
    NONE = "none"
    PROVIDER = "provider"
    CHAIN = "chain"
    MODEL = "model"
    KEY = "key"


class BucketSize(StrEnum):
    MINUTE = "minute"
    HOUR = "hour"
    DAY = "day"

    @property
    def seconds(self) -> int:
        return {"minute": 60, "hour": 3_600, "day": 86_400}[self.value]


@dataclass(frozen=True, slots=True)
class TimeRange:
    """From `start` (inclusive) to `end` (exclusive), epoch seconds."""

    start: float
    end: float


PERCENTILES: Final = (("P50", 0.5), ("P95", 0.95))


def _group_columns(table: Table) -> dict[GroupBy, tuple[tuple[str, ColumnElement[Any]], ...]]:
    """The labelled columns each grouping reads from `table` (the chain is always a request's)."""
    c = table.c
    return {
        GroupBy.NONE: (),
        GroupBy.PROVIDER: (("provider", c.provider_id),),
        GroupBy.CHAIN: (("chain", REQUESTS.c.chain),),
        GroupBy.MODEL: (("provider", c.provider_id), ("model", c.model)),
        GroupBy.KEY: (("provider", c.provider_id), ("keyLabel", c.key_label)),
    }


_GROUP_COLUMNS: Final = _group_columns(REQUESTS)
_ATTEMPT_GROUP_COLUMNS: Final = _group_columns(ATTEMPTS)


class TimeBucket(FunctionElement[int]):
    """`TimeBucket(column, width)`: the start of the `width`-second bucket holding `column`."""

    type = Integer()
    inherit_cache = True


@compiles(TimeBucket, "sqlite")
def _bucket_sqlite(element: TimeBucket, compiler: SQLCompiler, **kw: Any) -> str:
    column, width = element.clauses
    # CAST truncates toward zero, which is floor for the positive epoch times stored here.
    return (
        f"(CAST({compiler.process(column, **kw)} / {compiler.process(width, **kw)} AS INTEGER)"
        f" * {compiler.process(width, **kw)})"
    )


@compiles(TimeBucket)
def _bucket_default(element: TimeBucket, compiler: SQLCompiler, **kw: Any) -> str:
    column, width = element.clauses
    processed = compiler.process(width, **kw)
    return f"(floor({compiler.process(column, **kw)} / {processed}) * {processed})"


def _in_order(keys: Sequence[ColumnElement[Any]]) -> list[ColumnElement[Any]]:
    """Group keys in one order on both databases: SQLite sorts NULL (the requests no provider
    served) first by default, PostgreSQL last."""
    return [key.asc().nulls_first() for key in keys]


def _in_range(when: TimeRange) -> ColumnElement[bool]:
    return and_(REQUESTS.c.started_at >= when.start, REQUESTS.c.started_at < when.end)


def _ranked(named: list[tuple[str, ColumnElement[Any]]], when: TimeRange) -> Subquery:
    """The requests in range with their latency and TTFT ranks within their group."""
    partition = [column for _, column in named]
    ttft = REQUESTS.c.ttft_ms
    return (
        select(
            *(column.label(name) for name, column in named),
            REQUESTS.c.status,
            REQUESTS.c.attempt_count,
            REQUESTS.c.client_closed,
            REQUESTS.c.prompt_tokens,
            REQUESTS.c.completion_tokens,
            REQUESTS.c.total_tokens,
            REQUESTS.c.latency_ms,
            ttft,
            func.row_number()
            .over(partition_by=partition, order_by=REQUESTS.c.latency_ms)
            .label("latency_rank"),
            func.row_number()
            .over(partition_by=partition, order_by=ttft.asc().nulls_last())
            .label("ttft_rank"),
            func.count().over(partition_by=partition).label("n"),
            func.count(ttft).over(partition_by=partition).label("n_ttft"),
        )
        .where(_in_range(when))
        .subquery()
    )


def _aggregate_query(
    group_by: GroupBy, when: TimeRange, bucket: BucketSize | None
) -> tuple[Select[Any], list[str]]:
    """One row per group (and bucket): counts, token sums and latency/TTFT percentiles."""
    named: list[tuple[str, ColumnElement[Any]]] = list(_GROUP_COLUMNS[group_by])
    if bucket is not None:
        width = literal_column(str(int(bucket.seconds)), Integer)
        named.insert(0, ("t", TimeBucket(REQUESTS.c.started_at, width)))
    c = _ranked(named, when).c
    keys = [c[name] for name, _ in named]
    percentiles = []
    for suffix, p in PERCENTILES:
        percentiles.append(
            func.min(case((c.latency_rank >= p * c.n, c.latency_ms))).label("latency" + suffix)
        )
        percentiles.append(
            func.min(
                case((and_(c.ttft_rank >= p * c.n_ttft, c.ttft_ms.is_not(None)), c.ttft_ms))
            ).label("ttft" + suffix)
        )
    query = select(
        *keys,
        func.count().label("requests"),
        # A group of no rows (groupBy=none over an empty range) sums to NULL, not 0.
        func.coalesce(func.sum(case((c.status >= 400, 1), else_=0)), 0).label("errors"),
        func.coalesce(func.sum(case((c.attempt_count > 1, 1), else_=0)), 0).label("fallthroughs"),
        func.coalesce(func.sum(case((c.client_closed, 1), else_=0)), 0).label("clientClosed"),
        func.coalesce(func.sum(c.prompt_tokens), 0).label("promptTokens"),
        func.coalesce(func.sum(c.completion_tokens), 0).label("completionTokens"),
        func.coalesce(func.sum(c.total_tokens), 0).label("totalTokens"),
        func.avg(c.latency_ms).label("latencyAvg"),
        *percentiles,
    ).group_by(*keys)
    return query.order_by(*_in_order(keys)), [name for name, _ in named]


def _figures(row: dict[str, Any]) -> dict[str, Any]:
    requests = int(row["requests"])
    out: dict[str, Any] = {
        "requests": requests,
        "errors": int(row["errors"]),
        "errorRate": round(row["errors"] / requests, 4) if requests else 0.0,
        "fallthroughs": int(row["fallthroughs"]),
        "fallthroughRate": round(row["fallthroughs"] / requests, 4) if requests else 0.0,
        "clientClosed": int(row["clientClosed"]),
        "promptTokens": int(row["promptTokens"]),
        "completionTokens": int(row["completionTokens"]),
        "totalTokens": int(row["totalTokens"]),
        "latencyAvgMs": _ms(row["latencyAvg"]),
    }
    for suffix, _ in PERCENTILES:
        out[f"latency{suffix}Ms"] = _ms(row["latency" + suffix])
        out[f"ttft{suffix}Ms"] = _ms(row["ttft" + suffix])
    return out


def _ms(value: float | None) -> float | None:
    return None if value is None else round(float(value), 1)


def _empty_figures() -> dict[str, Any]:
    nothing = dict.fromkeys(
        ("latencyAvg", *(f"{k}{s}" for k in ("latency", "ttft") for s, _ in PERCENTILES))
    )
    zero = dict.fromkeys(
        (
            "requests",
            "errors",
            "fallthroughs",
            "clientClosed",
            "promptTokens",
            "completionTokens",
            "totalTokens",
        ),
        0,
    )
    return _figures({**zero, **nothing})


def totals(connection: Connection, group_by: GroupBy, when: TimeRange) -> list[dict[str, Any]]:
    """Per group: `{"key": {...}, "requests": n, ..., "latencyP95Ms": x}`, busiest first."""
    query, names = _aggregate_query(group_by, when, None)
    rows = [dict(r) for r in connection.execute(query).mappings()]
    out = [{"key": {n: row[n] for n in names}, **_figures(row)} for row in rows]
    return sorted(out, key=lambda item: -item["requests"])


def bucket_starts(when: TimeRange, bucket: BucketSize) -> list[int]:
    width = bucket.seconds
    first = int(when.start // width) * width
    return list(range(first, int(-(-when.end // width)) * width, width))


def bucket_count(when: TimeRange, bucket: BucketSize) -> int:
    """`len(bucket_starts(when, bucket))`, without building the list."""
    width = bucket.seconds
    return max(0, int(-(-when.end // width)) - int(when.start // width))


def series(
    connection: Connection, group_by: GroupBy, when: TimeRange, bucket: BucketSize
) -> list[dict[str, Any]]:
    """Per group, one point per bucket in the range (empty buckets included, zero-valued)."""
    query, names = _aggregate_query(group_by, when, bucket)
    groups: dict[tuple[Any, ...], dict[int, dict[str, Any]]] = {}
    for mapping in connection.execute(query).mappings():
        row = dict(mapping)
        key = tuple(row[n] for n in names[1:])
        groups.setdefault(key, {})[int(row["t"])] = _figures(row)
    starts = bucket_starts(when, bucket)
    empty = _empty_figures()
    return [
        {
            "key": dict(zip(names[1:], key, strict=True)),
            "points": [{"t": t * 1000, **points.get(t, empty)} for t in starts],
        }
        for key, points in groups.items()
    ]


def outcomes(connection: Connection, group_by: GroupBy, when: TimeRange) -> list[dict[str, Any]]:
    """Attempts per group and outcome: how often each provider served, 429'd, failed, ..."""
    named: Sequence[tuple[str, Any]] = _ATTEMPT_GROUP_COLUMNS[group_by]
    keys = [column.label(name) for name, column in named]
    query = (
        select(*keys, ATTEMPTS.c.outcome, func.count().label("n"))
        .select_from(ATTEMPTS.join(REQUESTS, ATTEMPTS.c.request_id == REQUESTS.c.request_id))
        .where(_in_range(when))
        .group_by(*(column for _, column in named), ATTEMPTS.c.outcome)
        .order_by(*_in_order([column for _, column in named]), ATTEMPTS.c.outcome)
    )
    groups: dict[tuple[Any, ...], dict[str, int]] = {}
    for row in connection.execute(query).mappings():
        key = tuple(row[name] for name, _ in named)
        groups.setdefault(key, {})[row["outcome"]] = int(row["n"])
    return [
        {
            "key": dict(zip([n for n, _ in named], key, strict=True)),
            "attempts": sum(counts.values()),
            "outcomes": counts,
        }
        for key, counts in groups.items()
    ]
