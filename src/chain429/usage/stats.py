"""Statistics over the usage tables, read on the store's reader threads.

`UsageStats` is what the HTTP layer calls. The `/v1/stats` figures keep the original 429chain's
JSON shapes (camelCase, epoch-millisecond timestamps, latency rounded to whole milliseconds);
the richer aggregates live in `usage.series` and the request log in `usage.requestlog`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, Connection, case, func, select

from chain429.usage import series
from chain429.usage.requestlog import LogPage, LogQuery, request_log
from chain429.usage.schema import REQUESTS
from chain429.usage.series import BucketSize, GroupBy, TimeRange
from chain429.usage.store import UsageStore


def summary(connection: Connection) -> dict[str, Any]:
    row = connection.execute(
        select(
            func.count().label("total"),
            func.sum(case((REQUESTS.c.attempt_count > 1, 1), else_=0)).label("waterfall"),
            func.avg(REQUESTS.c.latency_ms).label("latency"),
        )
    ).one()
    return {
        "totalRequests": int(row.total),
        "waterfallRequests": int(row.waterfall or 0),
        "avgLatencyMs": round(row.latency) if row.latency is not None else 0,
    }


def _usage(
    connection: Connection, column: ColumnElement[Any], name: str, only: str | None
) -> list[dict[str, Any]]:
    statement = (
        select(
            column.label("name"),
            func.count().label("requests"),
            func.coalesce(func.sum(REQUESTS.c.total_tokens), 0).label("total"),
            func.coalesce(func.sum(REQUESTS.c.prompt_tokens), 0).label("prompt"),
            func.coalesce(func.sum(REQUESTS.c.completion_tokens), 0).label("completion"),
            func.max(REQUESTS.c.started_at).label("last"),
        )
        .where(column.is_not(None))
        .group_by(column)
        .order_by(func.max(REQUESTS.c.started_at).desc(), column)
    )
    if only is not None:
        statement = statement.where(column == only)
    return [
        {
            name: row.name,
            "totalRequests": int(row.requests),
            "totalTokens": int(row.total),
            "totalPromptTokens": int(row.prompt),
            "totalCompletionTokens": int(row.completion),
            "lastRequestTimestamp": round(row.last * 1000) if row.last is not None else None,
        }
        for row in connection.execute(statement)
    ]


def provider_usage(connection: Connection, provider_id: str | None = None) -> list[dict[str, Any]]:
    """Requests served per provider (failed requests belong to no provider)."""
    return _usage(connection, REQUESTS.c.provider_id, "providerId", provider_id)


def chain_usage(connection: Connection, chain: str | None = None) -> list[dict[str, Any]]:
    return _usage(connection, REQUESTS.c.chain, "chainName", chain)


def with_idle(
    rows: list[dict[str, Any]], name: str, configured: Iterable[str], only: str | None
) -> list[dict[str, Any]]:
    """`rows` followed by zero counters for each `configured` name that has none (only the
    name `only`, when given): a provider or chain without traffic is not an unknown one."""
    seen = {row[name] for row in rows}
    idle = [n for n in configured if n not in seen and (only is None or n == only)]
    return rows + [_no_usage(name, n) for n in dict.fromkeys(idle)]


def _no_usage(name: str, value: str) -> dict[str, Any]:
    return {
        name: value,
        "totalRequests": 0,
        "totalTokens": 0,
        "totalPromptTokens": 0,
        "totalCompletionTokens": 0,
        "lastRequestTimestamp": None,
    }


def recent_requests(connection: Connection, limit: int) -> list[dict[str, Any]]:
    statement = (
        select(REQUESTS).order_by(REQUESTS.c.started_at.desc(), REQUESTS.c.id.desc()).limit(limit)
    )
    return [
        {
            "id": row.id,
            "timestamp": round(row.started_at * 1000),
            "chainName": row.chain,
            "providerId": row.provider_id,
            "model": row.model,
            "promptTokens": row.prompt_tokens or 0,
            "completionTokens": row.completion_tokens or 0,
            "totalTokens": row.total_tokens or 0,
            "latencyMs": round(row.latency_ms),
            "httpStatus": row.status,
            "attempts": row.attempt_count,
        }
        for row in connection.execute(statement)
    ]


class UsageStats:
    """Async read access to usage statistics; every query runs off the event loop."""

    def __init__(self, store: UsageStore) -> None:
        self._store = store

    async def summary(self) -> dict[str, Any]:
        return await self._store.read(summary)

    async def providers(
        self, provider_id: str | None = None, configured: Iterable[str] = ()
    ) -> list[dict[str, Any]]:
        """Usage per provider (of `provider_id` only, when given); `configured` providers
        without traffic get zero counters."""
        rows = await self._store.read(lambda c: provider_usage(c, provider_id))
        return with_idle(rows, "providerId", configured, provider_id)

    async def chains(
        self, chain: str | None = None, configured: Iterable[str] = ()
    ) -> list[dict[str, Any]]:
        rows = await self._store.read(lambda c: chain_usage(c, chain))
        return with_idle(rows, "chainName", configured, chain)

    async def recent_requests(self, limit: int) -> list[dict[str, Any]]:
        return await self._store.read(lambda c: recent_requests(c, limit))

    async def totals(self, group_by: GroupBy, when: TimeRange) -> list[dict[str, Any]]:
        return await self._store.read(lambda c: series.totals(c, group_by, when))

    async def series(
        self, group_by: GroupBy, when: TimeRange, bucket: BucketSize
    ) -> list[dict[str, Any]]:
        return await self._store.read(lambda c: series.series(c, group_by, when, bucket))

    async def outcomes(self, group_by: GroupBy, when: TimeRange) -> list[dict[str, Any]]:
        return await self._store.read(lambda c: series.outcomes(c, group_by, when))

    async def request_log(self, query: LogQuery) -> LogPage:
        return await self._store.read(lambda c: request_log(c, query))
