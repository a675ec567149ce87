"""Logging: structlog for our own events, the standard library's loggers routed through it.

Two formats: `console`, one readable line per event (and a compact one-line summary per
request), and `json`, one object per line. Every line passes through a `Redactor` as its very
last step, after rendering, so no configured secret, bearer token or `Authorization` value can
reach the output whichever logger, field or traceback carried it; values under sensitive field
names (`authorization`, `api_key`, ...) are blanked before rendering as well.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from typing import Any, Final, Literal, TextIO

import orjson
import structlog
from structlog.typing import EventDict, FilteringBoundLogger, Processor, WrappedLogger

from chain429.usage.records import AttemptRecord, RequestRecord
from chain429.usage.redaction import REDACTED, SENSITIVE_KEYS, Redactor

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


def _blank_sensitive(_logger: WrappedLogger, _name: str, event_dict: EventDict) -> EventDict:
    if not SENSITIVE_KEYS.isdisjoint(map(str.lower, event_dict)):
        for key in event_dict:
            if key.lower() in SENSITIVE_KEYS:
                event_dict[key] = REDACTED
    return event_dict


class _RedactingRenderer:
    """Renders an event to one line, then removes every secret from the finished text."""

    def __init__(self, fmt: LogFormat, redactor: Redactor) -> None:
        self._redactor = redactor
        self._console = structlog.dev.ConsoleRenderer(
            colors=False, exception_formatter=structlog.dev.plain_traceback, pad_event_to=0
        )
        self._fmt = fmt

    def __call__(self, logger: WrappedLogger, name: str, event_dict: EventDict) -> str:
        if self._fmt == "json":
            text = orjson.dumps(event_dict, default=repr).decode()
        elif event_dict.get("event") == REQUEST_EVENT and "chain" in event_dict:
            text = _request_line(event_dict)
        else:
            text = self._console(logger, name, event_dict)
        return self._redactor.redact(text)


def _request_line(event: EventDict) -> str:
    """`<time> <level> <chain> -> <served by> <status> | <attempts> | tokens | latency`."""
    served = event.get("served_by") or "(none)"
    if event.get("key"):
        served += f" ({event['key']})"
    tried = " > ".join(f"{a['entry']}:{a['outcome']}" for a in event.get("attempts", ()))
    parts = [
        f"{event.get('timestamp', '')} {event.get('level', 'info'):<7} "
        f"{event['chain']} -> {served} {event.get('status')}",
        tried or "no attempts",
    ]
    if event.get("prompt_tokens") is not None or event.get("completion_tokens") is not None:
        parts.append(
            f"tokens {event.get('prompt_tokens') or 0}+{event.get('completion_tokens') or 0}"
        )
    timing = f"{event.get('latency_ms', 0):.0f}ms"
    if event.get("ttft_ms") is not None:
        timing += f" (ttft {event['ttft_ms']:.0f}ms)"
    parts.append(timing)
    flags = [f for f in ("streamed", "client_closed") if event.get(f)]
    if event.get("error"):
        flags.append(str(event["error"]))
    if flags:
        parts.append(" ".join(flags))
    return " | ".join(parts)


class _Handler(logging.StreamHandler):  # type: ignore[type-arg]  # generic only in typeshed
    """The root handler this module installs (and replaces on reconfiguration)."""


def configure_logging(
    level: str, fmt: LogFormat, secrets: Iterable[str], *, stream: TextIO | None = None
) -> Redactor:
    """Configure structlog and the standard library's root logger; returns the `Redactor`.

    `level` is a `settings.logLevel` value (trace, debug, info, warn, warning, error, fatal).
    Call `redactor.update(...)` with the new key list when the config changes.
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
    if fmt == "json":
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
    return redactor


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


def _attempt(attempt: AttemptRecord) -> dict[str, Any]:
    return {
        "entry": f"{attempt.provider_id}/{attempt.model}",
        "key": attempt.key_label,
        "outcome": attempt.outcome.value,
        "status": attempt.status,
        "latency_ms": round(attempt.latency_ms, 1),
        "reason": attempt.reason,
    }


def log_request(logger: FilteringBoundLogger, record: RequestRecord) -> None:
    """Log one answered request: info when it succeeded, warning when it did not."""
    level = logging.INFO if record.status < 400 else logging.WARNING
    if not logger.is_enabled_for(level):
        return
    logger.log(
        level,
        REQUEST_EVENT,
        request_id=record.request_id,
        chain=record.chain,
        requested_model=record.requested_model,
        served_by=f"{record.provider_id}/{record.model}" if record.provider_id else None,
        key=record.key_label,
        status=record.status,
        streamed=record.streamed,
        attempts=[_attempt(a) for a in record.attempts],
        prompt_tokens=record.prompt_tokens,
        completion_tokens=record.completion_tokens,
        latency_ms=round(record.latency_ms, 1),
        ttft_ms=None if record.ttft_ms is None else round(record.ttft_ms, 1),
        error=record.error_class,
        client_closed=record.client_closed,
    )
