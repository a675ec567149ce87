"""The per-request log line: one line for each finished request, in the log's own layouts.

A usage sink like the writer and the metrics (`RecordingSink` hands it every record); the
request log of the statistics API, read from the database, is `usage.requestlog`.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from typing import Any, Final, TextIO

import orjson

from chain429.logs import LEVELS, LogFormat
from chain429.usage.records import AttemptRecord, RequestRecord

REQUEST_EVENT: Final = "request"


class RequestLines:
    """The log's one line per request: a sink of every finished request's record.

    It runs for every request, so it skips structlog's processor chain: lines are formatted
    directly and written in batches (at most `FLUSH_S` late, or every `FLUSH_LINES` lines).
    A record's free text (the requested model, attempt reasons) was made safe where it entered
    (see `router.attempt` and `router.walk`); the rest are config names and numbers.
    """

    FLUSH_S: Final = 0.05
    FLUSH_LINES: Final = 256

    def __init__(self, fmt: LogFormat, level: str, stream: TextIO | None = None) -> None:
        self._json = fmt == "json"
        self._min_level = LEVELS[level.lower()]
        self._stream = stream if stream is not None else sys.stderr
        self._pending: list[str] = []
        self._scheduled = False
        self._second = -1
        self._stamp = ""

    def write(self, record: RequestRecord) -> None:
        level = logging.INFO if record.status < 400 else logging.WARNING
        if level < self._min_level:
            return
        now = time.time()
        name = "info" if level == logging.INFO else "warning"
        line = self._json_line(record, now, name) if self._json else self._line(record, now, name)
        self._pending.append(line)
        if len(self._pending) >= self.FLUSH_LINES:
            self.flush()
        elif not self._scheduled:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                self.flush()
                return
            self._scheduled = True
            loop.call_later(self.FLUSH_S, self.flush)

    def flush(self) -> None:
        self._scheduled = False
        if not self._pending:
            return
        lines, self._pending = self._pending, []
        self._stream.write("\n".join(lines) + "\n")
        self._stream.flush()

    def _timestamp(self, now: float) -> str:
        second = int(now)
        if second != self._second:
            self._second = second
            self._stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        return f"{self._stamp}.{int((now - second) * 1e6):06d}Z"

    def _line(self, record: RequestRecord, now: float, level: str) -> str:
        """`<time> <level> <chain> -> <served by> <status> | <attempts> | tokens | latency`,
        formatted in one f-string from parts that are empty when they do not apply."""
        served = f"{record.provider_id}/{record.model}" if record.provider_id else "(none)"
        if record.key_label:
            served = f"{served} ({record.key_label})"
        tried = " > ".join([f"{a.provider_id}/{a.model}:{a.outcome}" for a in record.attempts])
        prompt, completion = record.prompt_tokens, record.completion_tokens
        tokens = (
            ""
            if prompt is None and completion is None
            else f" | tokens {prompt or 0}+{completion or 0}"
        )
        ttft = "" if record.ttft_ms is None else f" (ttft {record.ttft_ms:.0f}ms)"
        queued = "" if record.queued_ms is None else f" (queued {record.queued_ms:.0f}ms)"
        flags = ""
        if record.streamed or record.client_closed or record.error_class:
            flags = f" | {_flags(record)}"
        return (
            f"{self._timestamp(now)} {level:<7} {record.chain} -> {served} {record.status}"
            f" | {tried or 'no attempts'}{tokens} | {record.latency_ms:.0f}ms{ttft}{queued}{flags}"
        )

    def _json_line(self, record: RequestRecord, now: float, level: str) -> str:
        return orjson.dumps(
            {
                "event": REQUEST_EVENT,
                "level": level,
                "timestamp": self._timestamp(now),
                "request_id": record.request_id,
                "chain": record.chain,
                "requested_model": record.requested_model,
                "served_by": (
                    f"{record.provider_id}/{record.model}" if record.provider_id else None
                ),
                "key": record.key_label,
                "status": record.status,
                "streamed": record.streamed,
                "attempts": [_attempt(a) for a in record.attempts],
                "prompt_tokens": record.prompt_tokens,
                "completion_tokens": record.completion_tokens,
                "latency_ms": round(record.latency_ms, 1),
                "ttft_ms": None if record.ttft_ms is None else round(record.ttft_ms, 1),
                "queued_ms": None if record.queued_ms is None else round(record.queued_ms, 1),
                "error": record.error_class,
                "client_closed": record.client_closed,
            }
        ).decode()


def _flags(record: RequestRecord) -> str:
    flags: list[str] = []
    if record.streamed:
        flags.append("streamed")
    if record.client_closed:
        flags.append("client_closed")
    if record.error_class and record.error_class not in flags:
        flags.append(record.error_class)
    return " ".join(flags)


def _attempt(attempt: AttemptRecord) -> dict[str, Any]:
    return {
        "entry": f"{attempt.provider_id}/{attempt.model}",
        "key": attempt.key_label,
        "outcome": attempt.outcome.value,
        "status": attempt.status,
        "latency_ms": round(attempt.latency_ms, 1),
        "waited_ms": None if attempt.waited_ms is None else round(attempt.waited_ms, 1),
        "reason": attempt.reason,
    }
