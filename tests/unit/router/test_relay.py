"""A committed stream relayed to a recording channel: events pass as they came (usage only when
asked for), and a stream that breaks, goes idle or stops short ends with an error event."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from chain429.errors import UpstreamProtocolError, UpstreamTimeoutError
from chain429.outcome import Outcome
from chain429.redaction import Redactor
from chain429.router.attempt import Commit
from chain429.router.plan import build_plans
from chain429.router.relay import StreamRelay
from chain429.router.sse import SSEParser
from tests.support.fake_router_io import (
    HANG,
    RecordingChannel,
    ScriptedResponse,
    StreamItem,
    sse_response,
)
from tests.support.proxy import make_config
from tests.support.upstream import chunk, usage_chunk

PLAN = build_plans(make_config([("a", "http://a.test/v1")]))["a"]  # reads may wait 5 s
FIRST = chunk({"role": "assistant", "content": "Hel"})
MORE = chunk({"content": "lo"})
LAST = chunk({}, "stop")
USAGE = usage_chunk()


def committed(*rest: dict[str, Any] | bytes | StreamItem) -> tuple[Commit, ScriptedResponse]:
    """A stream committed at FIRST (held), with `rest` still to come upstream."""
    response = sse_response(*rest)
    return Commit(response, response.chunks(), SSEParser(), [orjson.dumps(FIRST)], None), response


async def relay(
    commit: Commit, *, wants_usage: bool = False, idle_s: float = 2.0
) -> tuple[Outcome, RecordingChannel]:
    channel = RecordingChannel()
    await channel.start_stream({})
    result = await StreamRelay(PLAN, False, wants_usage, idle_s, Redactor()).run(commit, channel)
    return result.outcome, channel


def contents(channel: RecordingChannel) -> list[Any]:
    events = channel.event_json()
    return [e["choices"][0]["delta"].get("content") for e in events if e.get("choices")]


async def test_a_whole_stream_is_relayed_as_it_came_and_the_connection_kept() -> None:
    commit, response = committed(MORE, LAST, USAGE, b"[DONE]")
    stream_relay = StreamRelay(PLAN, False, False, 2.0, Redactor())
    channel = RecordingChannel()
    result = await stream_relay.run(commit, channel)

    assert (result.outcome, result.status) == (Outcome.SERVED, 200)
    assert contents(channel) == ["Hel", "lo", None]
    assert channel.events()[-1] == b"[DONE]"
    assert result.usage == USAGE["usage"]  # read for the record...
    assert all("usage" not in e for e in channel.event_json())  # ...not sent unasked
    assert (response.released, response.closed) == (True, False)


async def test_the_usage_chunk_reaches_a_client_that_asked_for_it() -> None:
    outcome, channel = await relay(committed(LAST, USAGE, b"[DONE]")[0], wants_usage=True)
    assert outcome is Outcome.SERVED
    assert channel.event_json()[-1]["usage"] == USAGE["usage"]


async def test_a_stream_that_drops_after_its_finish_reason_is_complete() -> None:
    commit, response = committed(MORE, LAST, UpstreamProtocolError("dropped"))
    outcome, channel = await relay(commit)
    assert outcome is Outcome.SERVED
    assert channel.events()[-1] == b"[DONE]"
    assert response.closed


@pytest.mark.parametrize(
    ("rest", "message"),
    [
        ((MORE, UpstreamProtocolError("reset")), "upstream stream broke: reset"),
        ((MORE,), "upstream stream ended before it was complete"),
        ((MORE, UpstreamTimeoutError("read")), "upstream sent nothing for 2s"),
    ],
    ids=["broken", "cut short", "read timeout"],
)
async def test_a_stream_that_fails_after_its_commit_ends_with_an_error_event(rest, message) -> None:
    commit, response = committed(*rest)
    outcome, channel = await relay(commit)

    assert outcome is Outcome.MID_STREAM_FAILURE
    assert contents(channel) == ["Hel", "lo"]
    error = channel.event_json()[-1]["error"]
    assert (error["message"], error["code"]) == (message, "upstream_stream_failed")
    assert b"[DONE]" not in channel.events()
    assert response.closed


async def test_a_stream_silent_for_the_idle_timeout_ends_with_an_error_event() -> None:
    commit, response = committed(MORE, HANG)
    outcome, channel = await relay(commit, idle_s=0.01)  # shorter than the 5 s read timeout

    assert outcome is Outcome.MID_STREAM_FAILURE
    assert contents(channel) == ["Hel", "lo"]
    assert channel.event_json()[-1]["error"]["message"] == "upstream sent nothing for 0.01s"
    assert response.closed


async def test_an_error_event_inside_the_stream_reaches_the_client_and_fails_it() -> None:
    commit, response = committed(MORE, {"error": {"message": "overloaded"}}, LAST)
    outcome, channel = await relay(commit)

    assert outcome is Outcome.MID_STREAM_FAILURE
    assert channel.event_json()[-1] == {"error": {"message": "overloaded"}}
    assert contents(channel) == ["Hel", "lo"]  # nothing after the error
    assert response.closed


async def test_a_client_that_leaves_mid_stream_closes_the_upstream() -> None:
    commit, response = committed(MORE, LAST, b"[DONE]")
    channel = RecordingChannel()
    channel.leave()
    result = await StreamRelay(PLAN, False, False, 2.0, Redactor()).run(commit, channel)
    assert result.outcome is Outcome.CLIENT_CLOSED
    assert response.closed


async def test_a_bug_mid_stream_ends_it_with_an_internal_error_event_and_goes_up() -> None:
    commit, response = committed(MORE, RuntimeError("bug"))
    channel = RecordingChannel()
    with pytest.raises(RuntimeError):
        await StreamRelay(PLAN, False, False, 2.0, Redactor()).run(commit, channel)
    assert channel.event_json()[-1]["error"]["code"] == "internal_error"
    assert response.closed


async def test_a_multi_line_event_keeps_its_lines() -> None:
    commit, _ = committed(b"line one\ndata: line two", LAST, b"[DONE]")
    outcome, channel = await relay(commit)
    assert outcome is Outcome.SERVED
    assert b"data: line one\ndata: line two\n\n" in b"".join(channel.written)
    assert b"line one\nline two" in channel.events()
