"""Logging: structlog for our own events, the standard library's loggers routed through it.

Two formats: `console`, one readable line per event (and a compact one-line summary per
request), and `json`, one object per line. Every line passes through a `Redactor` as its very
last step, after rendering, so no configured secret, bearer token or `Authorization` value can
reach the output whichever logger, field or traceback carried it; values under sensitive field
names (`authorization`, `api_key`, ...) are blanked before rendering as well.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import Iterable
from typing import Any, Final, Literal, TextIO

import orjson
import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from chain429.redaction import REDACTED, SENSITIVE_KEYS, Redactor
from chain429.usage.records import AttemptRecord, RequestRecord

LogFormat = Literal["console", "json"]

LEVELS: Final = {
    "trace": 5,
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warn": logging.WARNING,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "fatal": logging.CRITICAL,
}
REQUEST_EVENT: Final = "request"
_QUIET_LIBRARIES: Final = ("alembic", "sqlalchemy", "asyncio")
#: The keys every JSON line starts with, in this order (request lines too).
_JSON_HEAD: Final = ("event", "level", "timestamp")


def _blank_sensitive(_logger: WrappedLogger, _name: str, event_dict: EventDict) -> EventDict:
    if not SENSITIVE_KEYS.isdisjoint(map(str.lower, event_dict)):
        for key in event_dict:
            if key.lower() in SENSITIVE_KEYS:
                event_dict[key] = REDACTED
    return event_dict


def console_line(event_dict: EventDict) -> str:
    """`<time> <level> <event> key=value ...`, the request lines' layout; a traceback follows
    on the lines below."""
    fields = dict(event_dict)
    head = f"{fields.pop('timestamp', '')} {fields.pop('level', ''):<7} {fields.pop('event', '')}"
    exception = fields.pop("exception", None)
    for key, value in fields.items():
        shown = value if isinstance(value, str) and value and " " not in value else repr(value)
        head += f" {key}={shown}"
    return f"{head}\n{str(exception).rstrip()}" if exception else head


class _RedactingRenderer:
    """Renders an event to one line, then removes every secret from the finished text."""

    def __init__(self, fmt: LogFormat, redactor: Redactor) -> None:
        self._redactor = redactor
        self._fmt = fmt

    def __call__(self, logger: WrappedLogger, name: str, event_dict: EventDict) -> str:
        if self._fmt == "json":
            head = {k: event_dict.pop(k) for k in _JSON_HEAD if k in event_dict}
            text = orjson.dumps({**head, **event_dict}, default=repr).decode()
        else:
            text = console_line(event_dict)
        return self._redactor.redact(text)


class _Handler(logging.StreamHandler):  # type: ignore[type-arg]  # generic only in typeshed
    """The root handler this module installs (and replaces on reconfiguration)."""


def configure_logging(
    level: str, fmt: LogFormat, secrets: Iterable[str], *, stream: TextIO | None = None
) -> None:
    """Configure structlog and the standard library's root logger, redacting `secrets`.

    `level` is a `settings.logLevel` value (trace, debug, info, warn, warning, error, fatal).
    """
    number = LEVELS.get(level.lower())
    if number is None:
        raise ValueError(f"unknown log level '{level}'; expected one of {', '.join(LEVELS)}")
    out = stream if stream is not None else sys.stderr
    redactor = Redactor(secrets)
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _blank_sensitive,
    ]
    shared.append(structlog.processors.format_exc_info)
    renderer = _RedactingRenderer(fmt, redactor)
    structlog.configure(
        processors=[*shared, renderer],
        # structlog filters on the standard levels only; "trace" opens everything it has.
        wrapper_class=structlog.make_filtering_bound_logger(max(number, logging.DEBUG)),
        logger_factory=structlog.PrintLoggerFactory(out),
        cache_logger_on_first_use=True,
    )
    _route_standard_logging(number, out, shared, renderer)


def _route_standard_logging(
    number: int, out: TextIO, shared: list[Processor], renderer: _RedactingRenderer
) -> None:
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _Handler)]:
        root.removeHandler(old)
    handler = _Handler(out)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root.addHandler(handler)
    root.setLevel(number)
    for name in _QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(max(number, logging.WARNING))


class RequestLog:
    """The one-line-per-request log.

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
        """`<time> <level> <chain> -> <served by> <status> | <attempts> | tokens | latency`."""
        served = f"{record.provider_id}/{record.model}" if record.provider_id else "(none)"
        if record.key_label:
            served += f" ({record.key_label})"
        tried = " > ".join(f"{a.provider_id}/{a.model}:{a.outcome.value}" for a in record.attempts)
        parts = [
            f"{self._timestamp(now)} {level:<7} {record.chain} -> {served} {record.status}",
            tried or "no attempts",
        ]
        if record.prompt_tokens is not None or record.completion_tokens is not None:
            parts.append(f"tokens {record.prompt_tokens or 0}+{record.completion_tokens or 0}")
        timing = f"{record.latency_ms:.0f}ms"
        if record.ttft_ms is not None:
            timing += f" (ttft {record.ttft_ms:.0f}ms)"
        if record.queued_ms is not None:
            timing += f" (queued {record.queued_ms:.0f}ms)"
        parts.append(timing)
        flags = [f for f in ("streamed", "client_closed") if getattr(record, f)]
        if record.error_class and record.error_class not in flags:
            flags.append(record.error_class)
        if flags:
            parts.append(" ".join(flags))
        return " | ".join(parts)

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


def _attempt(attempt: AttemptRecord) -> dict[str, Any]:
    return {
        "entry": f"{attempt.provider_id}/{attempt.model}",
        "key": attempt.key_label,
        "outcome": attempt.outcome.value,
        "status": attempt.status,
        "latency_ms": round(attempt.latency_ms, 1),
        "reason": attempt.reason,
    }
