"""Slow readers (issue 16): a client that reads a stream slower than the upstream writes it
holds the upstream back through TCP instead of making the proxy buffer the answer; a pause in
its reading is not an upstream stall; a client that reads nothing for `clientTimeoutMs` is
dropped, and the request ends with a record that says so. A whole answer is read entire
before it is sent (its `usage` is read, it may be rewritten), so `maxResponseBytes` bounds it.

How much stays buffered while the client reads nothing: the kernel's socket buffers on the
way (the proxy's two sockets autotune on loopback: up to `net.ipv4.tcp_wmem`'s maximum, 4 MiB
by default, on the side toward the client; the test's two ends are pinned small), plus what
the proxy holds itself, which is what `PROXY_HELD_BOUND` bounds: aiohttp's client read buffer
(it stops reading the upstream's socket above 512 KiB: one read of up to 256 KiB over), what
the relay took of it, and the proxy's write buffer toward the client (writes wait above its
64 KiB high-water mark; one write over). The upstream's own write buffer (64 KiB and one
64 KiB write) counts in too, as it is not in the kernel either.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import orjson
import pytest

from chain429.app import AppOptions
from chain429.outcome import Outcome
from chain429.router.sse import SSEParser
from chain429.state import STATE
from tests.support.client import MESSAGES, chat_body
from tests.support.flood import EVENT_TEXT_BYTES, Flood
from tests.support.polling import eventually
from tests.support.proxy import make_config
from tests.support.raw_http import SlowReader, parse_answer
from tests.support.tcp_queues import queued_bytes
from tests.support.upstream import ok
from tests.support.usage_records import MemorySink

#: About 50 MB of events.
EVENTS = 50 * 1024 * 1024 // EVENT_TEXT_BYTES
PROXY_HELD_BOUND = 2 * 1024 * 1024
#: How long the upstream's count must stay the same to count as stopped: longer than the
#: stream idle timeout below, so the pause would have tripped it if it counted.
QUIET_S = 0.6
IDLE_TIMEOUT_MS = 300


async def settled(value: Callable[[], int], *, quiet_s: float, timeout: float) -> int:
    """`value()` once it has not changed for `quiet_s` (polled)."""
    loop = asyncio.get_running_loop()
    last = [value(), loop.time()]

    def still() -> int | None:
        now = value()
        if now != last[0]:
            last[:] = [now, loop.time()]
            return None
        return now if loop.time() - last[1] >= quiet_s else None

    return await eventually(still, timeout=timeout, interval=0.02, what="the upstream stopped")


def content_of(body: bytes) -> tuple[str, list[bytes]]:
    """The streamed answer's text, and its events that carry no content delta."""
    parser = SSEParser()
    text, others = [], []
    for data in parser.feed(body) + parser.close():
        delta = None
        if data != b"[DONE]":
            choices = orjson.loads(data).get("choices") or [{}]
            delta = choices[0].get("delta", {}).get("content")
        if delta:
            text.append(delta)
        else:
            others.append(data)
    return "".join(text), others


@pytest.mark.parametrize(
    "request_timeout_ms",
    [
        pytest.param(5000, id="idle-timer"),  # the relay's own idle timer watches the stream
        pytest.param(IDLE_TIMEOUT_MS, id="read-timeout"),  # aiohttp's read timeout does
    ],
)
async def test_a_stream_read_slowly_holds_the_upstream_back(
    upstream_factory, proxy_factory, request_timeout_ms
):
    flood = Flood(EVENTS)
    up = await upstream_factory(flood.stream())
    settings = {"streamIdleTimeoutMs": IDLE_TIMEOUT_MS, "requestTimeoutMs": request_timeout_ms}
    server = await proxy_factory(make_config([("a", up.base_url)], settings=settings))
    body = orjson.dumps(chat_body(stream=True))
    reader = await SlowReader.request(server, "/v1/chat/completions", body)
    try:
        stopped_at = await settled(lambda: flood.sent, quiet_s=QUIET_S, timeout=15)
        held = stopped_at - queued_bytes({server.port, up.port})
        assert stopped_at < EVENTS * EVENT_TEXT_BYTES // 4, "the upstream was not held back"
        assert held < PROXY_HELD_BOUND, f"the proxy holds {held} bytes itself"
        answer = parse_answer(await asyncio.wait_for(reader.read_to_end(), 30))
    finally:
        reader.close()
    assert answer.status == 200
    text, others = content_of(answer.body)
    assert text == flood.text, "every event, whole and in order"
    assert others[-1] == b"[DONE]"
    assert not [e for e in others if b'"error"' in e], "the pause was no upstream stall"
    assert flood.finished


async def test_a_stream_reader_that_reads_nothing_is_dropped_and_recorded(
    upstream_factory, proxy_factory
):
    flood = Flood(EVENTS)
    up = await upstream_factory(flood.stream())
    sink = MemorySink()
    config = make_config([("a", up.base_url)], settings={"clientTimeoutMs": 300})
    server = await proxy_factory(config, AppOptions(sink=sink))
    body = orjson.dumps(chat_body(stream=True))
    reader = await SlowReader.request(server, "/v1/chat/completions", body)
    try:
        record = await eventually(lambda: sink.records and sink.records[0], timeout=10)
        received = await asyncio.wait_for(reader.read_to_end(), 10)
    finally:
        reader.close()
    assert record.client_closed
    (attempt,) = record.attempts
    assert attempt.outcome is Outcome.CLIENT_CLOSED
    assert attempt.reason == "the client read nothing of its answer for 0.3s"
    assert not received.endswith(b"0\r\n\r\n"), "the answer was cut, not ended"
    await eventually(lambda: up.disconnects == 1, what="the upstream connection closed")
    assert len(server.app[STATE].waterfall.in_flight) == 0
    assert not flood.finished


async def test_a_whole_answer_not_read_is_dropped_and_recorded(upstream_factory, proxy_factory):
    flood = Flood(EVENTS // 10)
    up = await upstream_factory(flood.whole())
    sink = MemorySink()
    config = make_config([("a", up.base_url)], settings={"clientTimeoutMs": 300})
    server = await proxy_factory(config, AppOptions(sink=sink))
    reader = await SlowReader.request(server, "/v1/chat/completions", orjson.dumps(chat_body()))
    try:
        record = await eventually(lambda: sink.records and sink.records[0], timeout=10)
    finally:
        reader.close()
    assert record.client_closed
    (attempt,) = record.attempts
    assert attempt.outcome is Outcome.CLIENT_CLOSED
    assert attempt.reason == "the client read nothing of its answer for 0.3s"
    assert record.total_tokens == 6, "the tokens spent are kept"
    assert len(server.app[STATE].waterfall.in_flight) == 0


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "whole-for-a-stream"])
async def test_a_whole_answer_over_max_response_bytes_falls_through(
    upstream_factory, proxy_factory, client_factory, stream
):
    big = await upstream_factory(Flood(EVENTS // 10).whole())  # about 5 MB
    small = await upstream_factory(ok("small"))
    sink = MemorySink()
    config = make_config(
        [("a", big.base_url), ("b", small.base_url)], settings={"maxResponseBytes": 1 << 20}
    )
    server = await proxy_factory(config, AppOptions(sink=sink))
    client = client_factory(server)
    if stream:
        chunks = await client.chat.completions.create(
            model="default", messages=MESSAGES, stream=True
        )
        text = "".join([c.choices[0].delta.content or "" async for c in chunks if c.choices])
    else:
        answer = await client.chat.completions.create(model="default", messages=MESSAGES)
        text = answer.choices[0].message.content
    assert text == "small"
    record = await eventually(lambda: sink.records and sink.records[0])
    first = record.attempts[0]
    assert first.outcome is Outcome.BAD_RESPONSE
    assert first.reason == "answer larger than 1048576 bytes (settings.maxResponseBytes)"
