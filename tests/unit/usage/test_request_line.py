"""The per-request log line: what it says, in both layouts."""

from __future__ import annotations

import io

import orjson

from chain429.logs import LogFormat
from chain429.usage.request_line import RequestLines
from tests.support.usage_records import exhausted, served


def _with_requests(fmt: LogFormat) -> tuple[io.StringIO, RequestLines]:
    out = io.StringIO()
    return out, RequestLines(fmt, "info", out)


def test_console_request_line_says_what_happened() -> None:
    out, requests = _with_requests("console")
    record = served("r1", model="llama", fallen_from=("cerebras",), ttft_ms=41.6, tokens=(12, 34))
    requests.write(record)
    (line,) = out.getvalue().splitlines()
    assert " info " in line
    assert "fast -> groq/llama (…abcd) 200" in line
    assert "cerebras/m:rate_limited > groq/llama:served" in line
    assert "tokens 12+34" in line and "100ms (ttft 42ms)" in line and "streamed" in line


def test_the_request_line_says_how_long_a_request_waited_in_a_queue() -> None:
    out, requests = _with_requests("console")
    requests.write(served("r1", latency_ms=61_050.0, queued_ms=61_000.0))
    requests.write(served("r2"))
    queued, at_once = out.getvalue().splitlines()
    assert "61050ms (queued 61000ms)" in queued and "queued" not in at_once
    out, requests = _with_requests("json")
    requests.write(served("r1", queued_ms=61_000.0))
    requests.write(served("r2"))
    assert [orjson.loads(line)["queued_ms"] for line in out.getvalue().splitlines()] == [
        61_000.0,
        None,
    ]


def test_the_json_line_says_how_long_each_attempt_waited_for_a_probe() -> None:
    out, requests = _with_requests("json")
    record = served("r1", fallen_from=("cerebras",))
    first, last = record.attempts
    requests.write(record._replace(attempts=(first._replace(waited_ms=1234.56), last)))
    attempts = orjson.loads(out.getvalue())["attempts"]
    assert [a["waited_ms"] for a in attempts] == [1234.6, None]


def test_a_failed_request_is_a_warning_attributed_to_no_one() -> None:
    out, requests = _with_requests("console")
    requests.write(exhausted("r2"))
    line = out.getvalue()
    assert " warning " in line and "fast -> (none) 429" in line
    assert "groq/m:skipped > cerebras/m:rate_limited" in line and "all_exhausted" in line


def test_a_client_that_left_is_said_once() -> None:
    out, requests = _with_requests("console")
    requests.write(served("r1", status=499, client_closed=True, error_class="client_closed"))
    (line,) = out.getvalue().splitlines()
    assert line.count("client_closed") == 1, line
    assert line.endswith("| client_closed"), line
