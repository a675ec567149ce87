from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator

import orjson
import pytest
import structlog

from chain429.logs import LEVELS, configure_logging
from chain429.usage.request_line import RequestLines
from tests.support.usage_records import served

PROVIDER_KEY = "gsk_live_0123456789abcdefghijKLMN"
CLIENT_KEY = "client-key-9876543210zyxwv"


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    structlog.reset_defaults()
    root.handlers[:] = handlers
    root.setLevel(level)


def _configured(fmt: str, level: str = "info") -> io.StringIO:
    return _with_requests(fmt, level)[0]


def _with_requests(fmt: str, level: str = "info") -> tuple[io.StringIO, RequestLines]:
    out = io.StringIO()
    configure_logging(level, fmt, [PROVIDER_KEY, CLIENT_KEY], stream=out)  # type: ignore[arg-type]
    return out, RequestLines(fmt, level, out)  # type: ignore[arg-type]


#: The start of every console line: time, level padded to one width, then the message.
CONSOLE_LINE = re.compile(
    r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z (?:debug  |info   |warning|error  ) \S"
)


def test_every_console_line_has_the_request_lines_format() -> None:
    out, requests = _with_requests("console")
    requests.write(served("r1"))
    structlog.get_logger("t").info("limit state restored", entries=3)
    structlog.get_logger("t").warning("limit state not saved", error="disk full")
    logging.getLogger("some.library").error("library line")
    lines = out.getvalue().splitlines()
    assert len(lines) == 4
    for line in lines:
        assert CONSOLE_LINE.match(line), line
    assert lines[1].endswith(" info    limit state restored entries=3")
    assert lines[2].endswith(" warning limit state not saved error='disk full'")


def test_a_console_exception_follows_its_line() -> None:
    out = _configured("console")
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        structlog.get_logger("t").exception("failed", step=2)
    first, *rest = out.getvalue().splitlines()
    assert CONSOLE_LINE.match(first) and first.endswith(" error   failed step=2")
    assert rest[0] == "Traceback (most recent call last):" and rest[-1] == "RuntimeError: boom"


def test_json_format_is_one_object_per_line() -> None:
    out, requests = _with_requests("json")
    requests.write(served("r1", fallen_from=("cerebras",)))
    structlog.get_logger("t").info("hello", n=1)
    first, second = (orjson.loads(line) for line in out.getvalue().splitlines())
    assert first["event"] == "request" and first["level"] == "info"
    assert first["served_by"] == "groq/m" and first["status"] == 200
    assert [a["outcome"] for a in first["attempts"]] == ["rate_limited", "served"]
    assert second == {"event": "hello", "n": 1, "level": "info", "timestamp": second["timestamp"]}


@pytest.mark.parametrize(
    ("level", "shown"),
    [
        ("trace", {"debug", "info", "warning", "error"}),
        ("debug", {"debug", "info", "warning", "error"}),
        ("info", {"info", "warning", "error"}),
        ("warn", {"warning", "error"}),
        ("warning", {"warning", "error"}),
        ("error", {"error"}),
        ("fatal", set()),
    ],
)
def test_log_level_is_honoured(level: str, shown: set[str]) -> None:
    out = _configured("json", level)
    log = structlog.get_logger("t")
    log.debug("e")
    log.info("e")
    log.warning("e")
    log.error("e")
    logging.getLogger("some.library").info("library line")
    levels = [orjson.loads(line)["level"] for line in out.getvalue().splitlines()]
    assert set(levels) == shown


def test_unknown_level_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown log level"):
        configure_logging("verbose", "console", [])
    assert set(LEVELS) == {"trace", "debug", "info", "warn", "warning", "error", "fatal"}


@pytest.mark.parametrize("fmt", ["console", "json"])
def test_no_secret_reaches_the_output_by_any_path(fmt: str) -> None:
    """(A request line's free text arrives safe: see tests/unit/router/test_attempt.py.)"""
    out = _configured(fmt, "debug")
    log = structlog.get_logger("t")
    log.info("event", note=f"upstream said {PROVIDER_KEY}", api_key=PROVIDER_KEY)
    log.info("headers", headers={"Authorization": f"Bearer {CLIENT_KEY}"})
    log.info(f"client used {CLIENT_KEY[:12]}")
    log.info("auth", Authorization=f"Bearer {CLIENT_KEY}")
    logging.getLogger("aiohttp.access").info("GET /v1 %s", f"Bearer {CLIENT_KEY}")
    try:
        raise RuntimeError(f"upstream rejected key {PROVIDER_KEY}")
    except RuntimeError:
        log.exception("failed")
        logging.getLogger("aiohttp.server").exception("handler crashed")
    text = out.getvalue()
    assert text.count("[redacted]") >= 7
    for secret in (PROVIDER_KEY, CLIENT_KEY):
        for start in range(len(secret) - 7):
            assert secret[start : start + 8] not in text, text


def test_reconfiguring_replaces_the_handler_instead_of_adding_one() -> None:
    first = _configured("console")
    second = _configured("console")
    logging.getLogger("lib").warning("once")
    assert first.getvalue() == ""
    assert second.getvalue().count("once") == 1


def test_replaced_secrets_are_redacted_from_the_next_line_on() -> None:
    out = io.StringIO()
    secrets = configure_logging("info", "console", [PROVIDER_KEY], stream=out)
    added = "added-key-by-a-change-000011112222"
    structlog.get_logger("t").info("before", key=added)

    secrets.replace([PROVIDER_KEY, added])
    structlog.get_logger("t").info("after", key=added, old=PROVIDER_KEY)
    logging.getLogger("some.library").error("library line %s", added)

    before, after, library = out.getvalue().splitlines()
    assert added in before, "a secret nobody configured yet is not known"
    assert added[:8] not in after and PROVIDER_KEY[:8] not in after and "[redacted]" in after
    assert added[:8] not in library
    assert secrets.secrets == {PROVIDER_KEY, added}
