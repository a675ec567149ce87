"""The fault matrix: every way an upstream can misbehave that the proxy promises to survive,
with the one outcome a client sees for a plain and for a streamed request.

`tests/integration/test_fault_matrix.py` runs every row against a fault-injecting upstream on
loopback (entry `a`), with a healthy upstream behind it (entry `b`), through the openai SDK.
The README's "Upstream faults" table is `markdown_table()` of the same rows (a test compares
them), so the docs cannot drift from what is tested. `python -m tests.support.faults` prints it.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

import orjson
from aiohttp import web

from chain429.outcome import Outcome
from tests.support.upstream import (
    Behaviour,
    chunk,
    completion,
    cut_body,
    hang,
    reply,
    sse,
    standard_events,
)

#: The matrix's timeouts (ms): short, so the rows that wait for one stay fast.
REQUEST_TIMEOUT_MS = 1000
STREAM_IDLE_TIMEOUT_MS = 300
#: Short, so a row whose headers bench an entry for longer than this shows it.
MAX_COOLDOWN_MS = 30_000

#: One event bigger than every buffer on the way (aiohttp reads 64 KiB at a time).
ENORMOUS_TEXT = "x" * (2 * 1024 * 1024)
#: The matrix's `maxResponseBytes`: above the enormous answer, far below what an endless one
#: would send.
MAX_RESPONSE_BYTES = 4 * 1024 * 1024
#: How much an endless answer sends before it gives up (the proxy must have cut it long before).
ENDLESS_BYTES = 64 * MAX_RESPONSE_BYTES
DRIP_PAUSE_S = 0.1


class Expect(Enum):
    """What the client sees."""

    FALLS_THROUGH = "falls through: the next entry answers"
    SERVED = "served by this entry, whole"
    STREAM_FAILED = "the SDK raises `APIError` (code `upstream_stream_failed`)"
    UPSTREAM_ERROR = "the SDK raises `APIError` carrying the upstream's error message"


@dataclass(frozen=True)
class Fault:
    """One row: `make(stream)` builds the faulty upstream's behaviour (None: nothing listens)."""

    name: str
    what: str
    plain: Expect
    streamed: Expect
    recorded: tuple[Outcome, Outcome]
    """The faulty entry's attempt outcome in the usage record: plain, streamed."""
    make: Callable[[bool], Behaviour | None]

    def expect(self, stream: bool) -> Expect:
        return self.streamed if stream else self.plain

    def outcome(self, stream: bool) -> Outcome:
        return self.recorded[stream]


def _same(behaviour: Behaviour | None) -> Callable[[bool], Behaviour | None]:
    return lambda _stream: behaviour


def _by_mode(plain: Behaviour, streamed: Behaviour) -> Callable[[bool], Behaviour]:
    return lambda stream: streamed if stream else plain


def reset_before_headers() -> Behaviour:
    """Reads the request, then resets the connection (RST, not FIN) without a status line."""

    async def behaviour(request: web.Request, _: dict[str, Any]) -> web.StreamResponse:
        assert request.transport is not None
        sock = request.transport.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        request.transport.abort()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    return behaviour


def rate_limited(**headers: str) -> Behaviour:
    return reply(429, raw=b"", headers=headers, content_type="text/plain")


def stalled_body() -> Behaviour:
    """Promises a JSON body by Content-Length, sends half of it and goes quiet."""

    async def behaviour(request: web.Request, _: dict[str, Any]) -> web.StreamResponse:
        payload = orjson.dumps(completion())
        response = web.StreamResponse(
            headers={"Content-Type": "application/json", "Content-Length": str(len(payload))}
        )
        await response.prepare(request)
        await response.write(payload[: len(payload) // 2])
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    return behaviour


def drip(stream: bool) -> Behaviour:
    """The answer one byte every `DRIP_PAUSE_S`: it would take far longer than the request
    timeout to arrive (a slowloris upstream)."""

    async def behaviour(request: web.Request, _: dict[str, Any]) -> web.StreamResponse:
        if stream:
            kind = "text/event-stream"
            payload = b"".join(b"data: " + e + b"\n\n" for e in standard_events())
        else:
            kind, payload = "application/json", orjson.dumps(completion())
        response = web.StreamResponse(headers={"Content-Type": kind})
        await response.prepare(request)
        for index in range(len(payload)):
            await response.write(payload[index : index + 1])
            await asyncio.sleep(DRIP_PAUSE_S)
        return response

    return behaviour


def endless(stream: bool) -> Behaviour:
    """An answer that never ends, as fast as the proxy reads: a JSON body, or a stream whose
    first content is followed by an event whose line never ends."""

    async def behaviour(request: web.Request, _: dict[str, Any]) -> web.StreamResponse:
        kind = "text/event-stream" if stream else "application/json"
        response = web.StreamResponse(headers={"Content-Type": kind})
        await response.prepare(request)
        if stream:
            await response.write(b"".join(b"data: " + e + b"\n\n" for e in _CONTENT))
        await response.write(b'data: {"choices": "' if stream else b'{"choices": "')
        piece = b"x" * 65536
        with contextlib.suppress(ConnectionError):
            for _ in range(ENDLESS_BYTES // len(piece)):
                await response.write(piece)
        return response

    return behaviour


def _event(obj: dict[str, Any]) -> bytes:
    return orjson.dumps(obj)


_ROLE = _event(chunk({"role": "assistant", "content": ""}))
_ERROR = _event({"error": {"message": "upstream overloaded", "type": "server_error", "code": 503}})
_CONTENT = [_ROLE, _event(chunk({"content": "Hel"})), _event(chunk({"content": "lo"}))]
_GARBAGE = b": keep-alive\n\nevent: ping\nid: 7\nretry: soon\nnot a field at all\n}{\xff\xfe\n\n"

FAULTS: tuple[Fault, ...] = (
    Fault(
        "connection-refused",
        "connection refused (nothing listens)",
        Expect.FALLS_THROUGH,
        Expect.FALLS_THROUGH,
        (Outcome.CONNECT_ERROR, Outcome.CONNECT_ERROR),
        _same(None),
    ),
    Fault(
        "reset-before-headers",
        "connection reset before any header",
        Expect.FALLS_THROUGH,
        Expect.FALLS_THROUGH,
        (Outcome.BAD_RESPONSE, Outcome.BAD_RESPONSE),
        _same(reset_before_headers()),
    ),
    Fault(
        "hang-before-headers",
        "no answer at all (hangs before the headers)",
        Expect.FALLS_THROUGH,
        Expect.FALLS_THROUGH,
        (Outcome.TIMEOUT, Outcome.TIMEOUT),
        _same(hang()),
    ),
    Fault(
        "5xx-html",
        "502 with an HTML error page",
        Expect.FALLS_THROUGH,
        Expect.FALLS_THROUGH,
        (Outcome.SERVER_ERROR, Outcome.SERVER_ERROR),
        _same(
            reply(
                502,
                raw=b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>",
                content_type="text/html",
            )
        ),
    ),
    Fault(
        "429-no-headers",
        "429 with no headers and no body",
        Expect.FALLS_THROUGH,
        Expect.FALLS_THROUGH,
        (Outcome.RATE_LIMITED, Outcome.RATE_LIMITED),
        _same(rate_limited()),
    ),
    Fault(
        "429-negative",
        "429 with negative `retry-after` and reset headers",
        Expect.FALLS_THROUGH,
        Expect.FALLS_THROUGH,
        (Outcome.RATE_LIMITED, Outcome.RATE_LIMITED),
        _same(
            rate_limited(
                **{
                    "retry-after": "-30",
                    "retry-after-ms": "-5000",
                    "x-ratelimit-remaining-requests": "-1",
                    "x-ratelimit-reset-requests": "-7s",
                }
            )
        ),
    ),
    Fault(
        "429-nan",
        "429 with `NaN` and `inf` in `retry-after` and reset headers",
        Expect.FALLS_THROUGH,
        Expect.FALLS_THROUGH,
        (Outcome.RATE_LIMITED, Outcome.RATE_LIMITED),
        _same(
            rate_limited(
                **{
                    "retry-after": "NaN",
                    "retry-after-ms": "inf",
                    "x-ratelimit-limit-requests": "nan",
                    "x-ratelimit-reset-requests": "NaNs",
                }
            )
        ),
    ),
    Fault(
        "429-reset-1e12s",
        "429 whose `retry-after` and reset say 10^12 s",
        Expect.FALLS_THROUGH,
        Expect.FALLS_THROUGH,
        (Outcome.RATE_LIMITED, Outcome.RATE_LIMITED),
        _same(
            rate_limited(
                **{
                    "retry-after": "1000000000000",
                    "x-ratelimit-remaining-requests": "0",
                    "x-ratelimit-reset-requests": "1000000000000s",
                }
            )
        ),
    ),
    Fault(
        "429-50kb-header",
        "429 with a 50 KB header",
        Expect.FALLS_THROUGH,
        Expect.FALLS_THROUGH,
        (Outcome.RATE_LIMITED, Outcome.RATE_LIMITED),
        _same(rate_limited(**{"retry-after": "1" * 50_000})),
    ),
    Fault(
        "200-error-object",
        "200 whose body is an `error` object",
        Expect.FALLS_THROUGH,
        Expect.FALLS_THROUGH,
        (Outcome.IN_BAND_ERROR, Outcome.IN_BAND_ERROR),
        _same(reply(body={"error": {"message": "model overloaded", "code": 503}})),
    ),
    Fault(
        "truncated-json",
        "200 whose JSON body stops half-way",
        Expect.FALLS_THROUGH,
        Expect.FALLS_THROUGH,
        (Outcome.BAD_RESPONSE, Outcome.BAD_RESPONSE),
        _same(reply(raw=orjson.dumps(completion())[:40])),
    ),
    Fault(
        "json-not-a-completion",
        "200 with JSON that is not a completion",
        Expect.FALLS_THROUGH,
        Expect.FALLS_THROUGH,
        (Outcome.BAD_RESPONSE, Outcome.BAD_RESPONSE),
        _same(reply(body={"hello": "world", "choices": "none"})),
    ),
    Fault(
        "sse-no-done",
        "a stream that stops after some content, without a finish reason or `[DONE]`",
        Expect.FALLS_THROUGH,
        Expect.STREAM_FAILED,
        (Outcome.BAD_RESPONSE, Outcome.MID_STREAM_FAILURE),
        _same(sse(_CONTENT)),
    ),
    Fault(
        "sse-garbage-and-comments",
        "a stream with comments, unknown fields and garbage lines between its events",
        Expect.FALLS_THROUGH,
        Expect.SERVED,
        (Outcome.BAD_RESPONSE, Outcome.SERVED),
        _by_mode(
            reply(raw=_GARBAGE + orjson.dumps(completion())),
            sse(keepalive=_GARBAGE),
        ),
    ),
    Fault(
        "error-event-before-content",
        "a stream whose first event is an in-band `error`",
        Expect.FALLS_THROUGH,
        Expect.FALLS_THROUGH,
        (Outcome.BAD_RESPONSE, Outcome.IN_BAND_ERROR),
        _same(sse([_ERROR, *_CONTENT])),
    ),
    Fault(
        "error-event-after-content",
        "a stream that sends an in-band `error` after some content",
        Expect.FALLS_THROUGH,
        Expect.UPSTREAM_ERROR,
        (Outcome.BAD_RESPONSE, Outcome.MID_STREAM_FAILURE),
        _same(sse([*_CONTENT, _ERROR])),
    ),
    Fault(
        "stall-mid-answer",
        "the answer stops half-way and the connection stays open",
        Expect.FALLS_THROUGH,
        Expect.STREAM_FAILED,
        (Outcome.TIMEOUT, Outcome.MID_STREAM_FAILURE),
        _by_mode(stalled_body(), sse(hang_after=3)),
    ),
    Fault(
        "drop-mid-answer",
        "the connection drops half-way through the answer",
        Expect.FALLS_THROUGH,
        Expect.STREAM_FAILED,
        (Outcome.BAD_RESPONSE, Outcome.MID_STREAM_FAILURE),
        _by_mode(cut_body(), sse(drop_after=3)),
    ),
    Fault(
        "enormous-event",
        "one 2 MiB answer or event, larger than any read buffer",
        Expect.SERVED,
        Expect.SERVED,
        (Outcome.SERVED, Outcome.SERVED),
        _by_mode(
            reply(body=completion(ENORMOUS_TEXT)),
            sse(standard_events([ENORMOUS_TEXT])),
        ),
    ),
    Fault(
        "endless-answer",
        "an answer, or an event after the first content, that never ends",
        Expect.FALLS_THROUGH,
        Expect.STREAM_FAILED,
        (Outcome.BAD_RESPONSE, Outcome.MID_STREAM_FAILURE),
        endless,
    ),
    Fault(
        "slow-drip",
        "the answer one byte every 100 ms (longer than `requestTimeoutMs` in all)",
        Expect.FALLS_THROUGH,
        Expect.FALLS_THROUGH,
        (Outcome.TIMEOUT, Outcome.TIMEOUT),
        drip,
    ),
)

_HEADER = (
    "| upstream fault | plain request | streamed request | recorded as (plain / streamed) |\n"
    "|---|---|---|---|\n"
)


def table_line(fault: Fault) -> str:
    plain, streamed = (f"`{outcome.value}`" for outcome in fault.recorded)
    what = f"{fault.what} | {fault.plain.value} | {fault.streamed.value}"
    return f"| {what} | {plain} / {streamed} |"


def markdown_table() -> str:
    """The README's "Upstream faults" table, one line per row of `FAULTS`."""
    lines = [table_line(fault) for fault in FAULTS]
    return _HEADER + "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown_table(), end="")
