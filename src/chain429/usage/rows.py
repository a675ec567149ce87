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


def _clip_row(row: Row, columns: tuple[str, ...], sizes: dict[str, int]) -> Row:
    return tuple(
        _fit(value, sizes.get(name)) if isinstance(value, str) else value
        for name, value in zip(columns, row, strict=True)
    )


def _fit(text: str, size: int | None) -> str:
    # PostgreSQL's text cannot hold NUL (a client's `model` can): it reads as U+FFFD instead.
    text = text.replace("\x00", "\ufffd") if "\x00" in text else text
    return text[:size] if size is not None else text


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
            requests = [_clip_row(row, REQUEST_COLUMNS, _CLIPPED_REQUEST) for row in requests]
            attempts = [_clip_row(row, ATTEMPT_COLUMNS, _CLIPPED_ATTEMPT) for row in attempts]
        return requests, attempts
