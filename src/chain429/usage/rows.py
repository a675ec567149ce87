"""Turn records into table rows, keeping strings within their columns. Records arrive with
their free text already made safe (upstream words where they entered, see `router.attempt`).

Rows are plain tuples in `REQUEST_COLUMNS` / `ATTEMPT_COLUMNS` order, the cheapest shape to hand
to the driver; the fields copied as they are come first, read in one C call by `attrgetter`.
Every value is an exact int, float, str or None, which the driver binds without looking for an
adapter. Names the proxy generates itself are clipped to their column sizes only where the
database enforces sizes (`clip_names`): SQLite does not, PostgreSQL does; there, a NUL
character (which PostgreSQL's text cannot hold) becomes U+FFFD.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import attrgetter
from typing import Any, Final

from chain429.usage.records import RequestRecord
from chain429.usage.schema import ERROR_CLASS_LENGTH, NAME_LENGTH, REASON_LENGTH

Row = tuple[Any, ...]

_REQUEST_FIELDS: Final = (
    "request_id",
    "started_at",
    "endpoint",
    "chain",
    "provider_id",
    "model",
    "key_label",
    "status",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "latency_ms",
    "ttft_ms",
    "queued_ms",
)
REQUEST_COLUMNS: Final = (
    *_REQUEST_FIELDS,
    "requested_model",
    "error_class",
    "attempt_count",
    "streamed",
    "client_closed",
)

_ATTEMPT_FIELDS: Final = (
    "provider_id",
    "model",
    "key_label",
    "status",
    "latency_ms",
    "waited_ms",
)
ATTEMPT_COLUMNS: Final = ("request_id", "position", *_ATTEMPT_FIELDS, "outcome", "reason")

_CLIPPED_REQUEST: Final = {
    "request_id": 64,
    "endpoint": 64,
    "chain": NAME_LENGTH,
    "provider_id": NAME_LENGTH,
    "model": NAME_LENGTH,
    "key_label": 32,
}
_CLIPPED_ATTEMPT: Final = {
    "request_id": 64,
    "provider_id": NAME_LENGTH,
    "model": NAME_LENGTH,
    "key_label": 32,
}


#: (index, size) of every text column of a row, where PostgreSQL checks its size and its text.
_Checks = tuple[tuple[int, int], ...]


def _checks(columns: tuple[str, ...], sizes: dict[str, int]) -> _Checks:
    return tuple((columns.index(name), size) for name, size in sizes.items())


_REQUEST_CHECKS: Final = _checks(
    REQUEST_COLUMNS,
    {**_CLIPPED_REQUEST, "requested_model": NAME_LENGTH, "error_class": ERROR_CLASS_LENGTH},
)
_ATTEMPT_CHECKS: Final = _checks(ATTEMPT_COLUMNS, {**_CLIPPED_ATTEMPT, "reason": REASON_LENGTH})


def _fitted(rows: list[Row], checks: _Checks) -> list[Row]:
    """`rows`, each text clipped to its column and without NUL (which PostgreSQL's text cannot
    hold; a client's `model` can): rows that need neither are kept as they are, found in one
    pass of cheap checks (a rebuilt row per row cost more than the COPY of it)."""
    fitted = []
    for row in rows:
        for index, size in checks:
            text = row[index]
            if text is not None and (len(text) > size or "\x00" in text):
                row = _fit_row(row, checks)
                break
        fitted.append(row)
    return fitted


def _fit_row(row: Row, checks: _Checks) -> Row:
    values = list(row)
    for index, size in checks:
        text = values[index]
        if text is not None:
            values[index] = text.replace("\x00", "\ufffd")[:size]
    return tuple(values)


class RowBuilder:
    """Builds insert parameters for `requests` and `attempts` from records."""

    def __init__(self, *, clip_names: bool = False) -> None:
        self._clip_names = clip_names
        self._request_fields = attrgetter(*_REQUEST_FIELDS)
        self._attempt_fields = attrgetter(*_ATTEMPT_FIELDS)

    def build(self, records: Sequence[RequestRecord]) -> tuple[list[Row], list[Row]]:
        request_fields = self._request_fields
        attempt_fields = self._attempt_fields
        requests: list[Row] = []
        attempts: list[Row] = []
        for r in records:
            error_class = r.error_class and r.error_class[:ERROR_CLASS_LENGTH]
            requested = r.requested_model[:NAME_LENGTH]
            tried = r.attempts
            # Flags as 0/1: the sqlite3 driver binds exact ints directly but looks for an adapter
            # for every bool.
            requests.append(
                (
                    *request_fields(r),
                    requested,
                    error_class,
                    len(tried),
                    1 if r.streamed else 0,
                    1 if r.client_closed else 0,
                )
            )
            request_id = r.request_id
            # `position` is the attempt's order: one entry can be tried more than once (with
            # another key of its provider, or again after waiting in queue mode).
            for position, a in enumerate(tried):
                reason = a.reason[:REASON_LENGTH]
                attempts.append((request_id, position, *attempt_fields(a), a.outcome.value, reason))
        if self._clip_names:
            requests = _fitted(requests, _REQUEST_CHECKS)
            attempts = _fitted(attempts, _ATTEMPT_CHECKS)
        return requests, attempts
