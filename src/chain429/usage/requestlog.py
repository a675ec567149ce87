"""The request log: newest first, filtered, paged by cursor, each request with its attempts.

Rows are ordered by start time, then id. The cursor names the last row of a page by both
(`"<started_at>:<id>"`), so paging never repeats or skips a row while new requests arrive.
`record_row` shapes a record that is not written yet the same way (the live `request` event).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Connection, RowMapping, and_, or_, select

from chain429.usage.records import RequestRecord
from chain429.usage.rows import ATTEMPT_COLUMNS, REQUEST_COLUMNS, RowBuilder
from chain429.usage.schema import ATTEMPTS, REQUESTS

_ROWS: Final = RowBuilder()
#: A row read from the database, or one built from a record (`record_row`).
_Row = RowMapping | Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class LogQuery:
    """Which requests to list. `status` is an inclusive range of HTTP statuses."""

    limit: int = 50
    before: tuple[float, int] | None = None
    chain: str | None = None
    provider: str | None = None
    status: tuple[int, int] | None = None
    start: float | None = None
    end: float | None = None


@dataclass(frozen=True, slots=True)
class LogPage:
    rows: list[dict[str, Any]]
    next_cursor: str | None


def _request_json(row: _Row) -> dict[str, Any]:
    return {
        "id": row.get("id"),
        "requestId": row["request_id"],
        "timestamp": round(row["started_at"] * 1000),
        "endpoint": row["endpoint"],
        "chain": row["chain"],
        "requestedModel": row["requested_model"],
        "provider": row["provider_id"],
        "model": row["model"],
        "keyLabel": row["key_label"],
        "status": row["status"],
        "streamed": bool(row["streamed"]),
        "attemptCount": row["attempt_count"],
        "promptTokens": row["prompt_tokens"],
        "completionTokens": row["completion_tokens"],
        "totalTokens": row["total_tokens"],
        "latencyMs": row["latency_ms"],
        "ttftMs": row["ttft_ms"],
        "queuedMs": row["queued_ms"],
        "errorClass": row["error_class"],
        "clientClosed": bool(row["client_closed"]),
        "attempts": [],
    }


def _attempt_json(row: _Row) -> dict[str, Any]:
    return {
        "position": row["position"],
        "provider": row["provider_id"],
        "model": row["model"],
        "keyLabel": row["key_label"],
        "outcome": row["outcome"],
        "status": row["status"],
        "latencyMs": row["latency_ms"],
        "waitedMs": row["waited_ms"],
        "reason": row["reason"],
    }


def record_row(record: RequestRecord) -> dict[str, Any]:
    """`record` as a row of the request log, before it is written: the same fields with the
    same values the log will show, but `id` (the database's row number) None."""
    (request,), attempts = _ROWS.build([record])
    row = _request_json(dict(zip(REQUEST_COLUMNS, request, strict=True)))
    row["attempts"] = [
        _attempt_json(dict(zip(ATTEMPT_COLUMNS, attempt, strict=True))) for attempt in attempts
    ]
    return row


def request_log(connection: Connection, query: LogQuery) -> LogPage:
    started, row_id = REQUESTS.c.started_at, REQUESTS.c.id
    statement = select(REQUESTS).order_by(started.desc(), row_id.desc()).limit(query.limit + 1)
    if query.before is not None:
        at, below = query.before
        statement = statement.where(or_(started < at, and_(started == at, row_id < below)))
    if query.chain is not None:
        statement = statement.where(REQUESTS.c.chain == query.chain)
    if query.provider is not None:
        statement = statement.where(REQUESTS.c.provider_id == query.provider)
    if query.status is not None:
        statement = statement.where(REQUESTS.c.status.between(*query.status))
    if query.start is not None:
        statement = statement.where(REQUESTS.c.started_at >= query.start)
    if query.end is not None:
        statement = statement.where(REQUESTS.c.started_at < query.end)
    found = list(connection.execute(statement).mappings())
    page = found[: query.limit]
    rows = [_request_json(r) for r in page]
    _attach_attempts(connection, rows)
    more = len(found) > query.limit
    cursor = f"{page[-1]['started_at']!r}:{page[-1]['id']}" if more and page else None
    return LogPage(rows=rows, next_cursor=cursor)


def _attach_attempts(connection: Connection, rows: Sequence[dict[str, Any]]) -> None:
    by_id = {row["requestId"]: row for row in rows}
    if not by_id:
        return
    attempts = connection.execute(
        select(ATTEMPTS)
        .where(ATTEMPTS.c.request_id.in_(list(by_id)))
        .order_by(ATTEMPTS.c.request_id, ATTEMPTS.c.position)
    ).mappings()
    for attempt in attempts:
        by_id[attempt["request_id"]]["attempts"].append(_attempt_json(attempt))
