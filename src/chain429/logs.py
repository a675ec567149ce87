"""Logging: structlog for our own events, the standard library's loggers routed through it.

Two formats: `console`, one readable line per event, and `json`, one object per line (the
per-request line, `usage.request_line`, follows the same layouts). Every line passes through a
`Redactor` as its very last step, after rendering, so no configured secret, bearer token or
`Authorization` value can reach the output whichever logger, field or traceback carried it;
values under sensitive field names (`authorization`, `api_key`, ...) are blanked before
rendering as well. The secrets follow config changes (`LogSecrets.replace`).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from typing import Final, Literal, TextIO

import orjson
import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from chain429.redaction import REDACTED, SENSITIVE_KEYS, Redactor

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


class LogSecrets:
    """The secrets every log line is cleaned of. `replace` swaps them at once for the lines to
    come (a config change added a key); a line is redacted by one set or the other, whole."""

    def __init__(self, secrets: Iterable[str]) -> None:
        self.secrets = frozenset(secrets)
        self.redactor = Redactor(self.secrets)

    def replace(self, secrets: Iterable[str]) -> None:
        known = frozenset(secrets)
        self.redactor, self.secrets = Redactor(known), known


class _RedactingRenderer:
    """Renders an event to one line, then removes every secret from the finished text."""

    def __init__(self, fmt: LogFormat, secrets: LogSecrets) -> None:
        self._secrets = secrets
        self._fmt = fmt

    def __call__(self, logger: WrappedLogger, name: str, event_dict: EventDict) -> str:
        if self._fmt == "json":
            head = {k: event_dict.pop(k) for k in _JSON_HEAD if k in event_dict}
            text = orjson.dumps({**head, **event_dict}, default=repr).decode()
        else:
            text = console_line(event_dict)
        return self._secrets.redactor.redact(text)


class _Handler(logging.StreamHandler):  # type: ignore[type-arg]  # generic only in typeshed
    """The root handler this module installs (and replaces on reconfiguration)."""


def configure_logging(
    level: str, fmt: LogFormat, secrets: Iterable[str], *, stream: TextIO | None = None
) -> LogSecrets:
    """Configure structlog and the standard library's root logger, redacting `secrets`; the
    returned `LogSecrets` replaces them later.

    `level` is a `settings.logLevel` value (trace, debug, info, warn, warning, error, fatal).
    """
    number = LEVELS.get(level.lower())
    if number is None:
        raise ValueError(f"unknown log level '{level}'; expected one of {', '.join(LEVELS)}")
    out = stream if stream is not None else sys.stderr
    log_secrets = LogSecrets(secrets)
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _blank_sensitive,
    ]
    shared.append(structlog.processors.format_exc_info)
    renderer = _RedactingRenderer(fmt, log_secrets)
    structlog.configure(
        processors=[*shared, renderer],
        # structlog filters on the standard levels only; "trace" opens everything it has.
        wrapper_class=structlog.make_filtering_bound_logger(max(number, logging.DEBUG)),
        logger_factory=structlog.PrintLoggerFactory(out),
        cache_logger_on_first_use=True,
    )
    _route_standard_logging(number, out, shared, renderer)
    return log_secrets


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
