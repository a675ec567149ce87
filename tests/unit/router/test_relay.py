"""A committed stream relayed to a recording channel: events pass as they came (usage only when
asked for), and a stream that breaks, goes idle or stops short ends with an error event."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


# -- after the commit point, whole events pass as they came -------------------------------------


def event(obj: dict[str, Any] | bytes) -> bytes:
    return b"data: " + (obj if isinstance(obj, bytes) else orjson.dumps(obj)) + b"\n\n"


def raw(*reads: bytes) -> Commit:
    """A stream committed at FIRST (held) whose next reads are `reads`, as they are."""
    response = ScriptedResponse(200, content_type="text/event-stream", stream=list(reads))
    return Commit(response, response.chunks(), SSEParser(), [orjson.dumps(FIRST)], None)


async def test_plain_events_go_as_they_came_in_one_write_per_read() -> None:
    read = event(MORE) + event(MORE) + event(LAST)
    outcome, channel = await relay(raw(read, event(b"[DONE]")))
    assert outcome is Outcome.SERVED
    assert channel.written[1:] == [read, b"data: [DONE]\n\n"]


async def test_an_event_split_across_reads_goes_whole_once_complete() -> None:
    whole = event(MORE)
    outcome, channel = await relay(raw(whole[:9], whole[9:-1], whole[-1:] + event(LAST)))
    assert outcome is Outcome.SERVED
    assert channel.written[1:] == [whole + event(LAST), b"data: [DONE]\n\n"]


async def test_a_read_with_content_then_the_usage_chunk_strips_only_the_usage() -> None:
    outcome, channel = await relay(raw(event(MORE) + event(LAST) + event(USAGE) + event(b"[DONE]")))
    assert outcome is Outcome.SERVED
    assert channel.written[1:] == [event(MORE) + event(LAST) + b"data: [DONE]\n\n"]


async def test_usage_on_a_content_chunk_is_recorded_and_sent_only_when_asked() -> None:
    last = {**LAST, "usage": USAGE["usage"]}
    commit = raw(event(MORE) + event(last) + event(b"[DONE]"))
    stream_relay = StreamRelay(PLAN, False, False, 2.0, Redactor())
    channel = RecordingChannel()
    result = await stream_relay.run(commit, channel)
    assert result.usage == USAGE["usage"]
    assert channel.event_json()[-1] == LAST

    outcome, asked = await relay(raw(event(last) + event(b"[DONE]")), wants_usage=True)
    assert asked.event_json()[-1] == last


async def test_null_usage_on_every_chunk_goes_as_it_came() -> None:
    nulls = event({**MORE, "usage": None}) + event({**LAST, "usage": None})
    outcome, channel = await relay(raw(nulls, event(b"[DONE]")))
    assert outcome is Outcome.SERVED
    assert channel.written[1] == nulls


async def test_crlf_events_reach_the_client_with_lf() -> None:
    crlf = event(MORE).replace(b"\n", b"\r\n")
    outcome, channel = await relay(raw(crlf[:-1], crlf[-1:] + event(LAST)))
    assert outcome is Outcome.SERVED
    assert channel.written[1:] == [event(MORE) + event(LAST), b"data: [DONE]\n\n"]


@pytest.mark.parametrize(
    "extra",
    [b": keep-alive\n\n", b": ping\n", b"event: message\nid: 7\nretry: 10\n"],
    ids=["comment event", "comment line", "other fields"],
)
async def test_comments_and_other_fields_are_dropped_as_before(extra) -> None:
    outcome, channel = await relay(raw(event(MORE) + extra + event(LAST), event(b"[DONE]")))
    assert outcome is Outcome.SERVED
    assert b"".join(channel.written[1:]) == event(MORE) + event(LAST) + b"data: [DONE]\n\n"


async def test_data_without_a_space_is_framed_as_clients_get_it() -> None:
    outcome, channel = await relay(raw(b"data:" + orjson.dumps(LAST) + b"\n\n"))
    assert outcome is Outcome.SERVED
    assert channel.written[1] == event(LAST)


async def test_an_error_event_after_content_in_the_same_read_ends_the_stream() -> None:
    error = {"error": {"message": "overloaded, key sk-secret-0123456789abcdef"}}
    commit = raw(event(MORE) + event(error) + event(LAST), event(b"[DONE]"))
    channel = RecordingChannel()
    redactor = Redactor(["sk-secret-0123456789abcdef"])
    result = await StreamRelay(PLAN, False, False, 2.0, redactor).run(commit, channel)

    assert result.outcome is Outcome.MID_STREAM_FAILURE
    assert contents(channel) == ["Hel", "lo"]  # nothing after the error
    assert b"sk-secret" not in b"".join(channel.written)
    assert "overloaded" in channel.event_json()[-1]["error"]["message"]


async def test_multi_line_json_data_reaches_the_client_on_one_line() -> None:
    indented = orjson.dumps(MORE, option=orjson.OPT_INDENT_2)
    multi = b"".join(b"data: " + line + b"\n" for line in indented.split(b"\n")) + b"\n"
    outcome, channel = await relay(raw(event(MORE) + multi + event(LAST), event(b"[DONE]")))
    assert outcome is Outcome.SERVED
    assert channel.written[1] == event(MORE) + event(MORE) + event(LAST)


async def test_a_stream_that_breaks_mid_event_sends_no_half_event() -> None:
    whole = event(MORE)
    outcome, channel = await relay(raw(whole + whole[:20], UpstreamProtocolError("reset")))
    assert outcome is Outcome.MID_STREAM_FAILURE
    assert channel.written[1] == whole
    assert channel.event_json()[-1]["error"]["code"] == "upstream_stream_failed"


async def test_the_events_read_with_the_commit_point_are_relayed_with_it() -> None:
    commit = raw()
    commit.rest = event(MORE) + event(LAST) + event(USAGE) + event(b"[DONE]")
    outcome, channel = await relay(commit)
    assert outcome is Outcome.SERVED
    assert channel.written == [event(FIRST) + event(MORE) + event(LAST) + b"data: [DONE]\n\n"]


async def test_a_normalised_stream_moves_reasoning_only_in_the_events_that_carry_it() -> None:
    thinking = chunk({"content": None, "reasoning_content": "Think"})
    commit = raw(event(MORE) + event(thinking) + event(LAST) + event(b"[DONE]"))
    channel = RecordingChannel()
    await StreamRelay(PLAN, True, False, 2.0, Redactor()).run(commit, channel)
    assert contents(channel) == ["Hel", "lo", "Think", None]
    assert channel.written[1].startswith(event(MORE))


# -- one event per read: each read decided on its own --------------------------------------------

_DONE = b"data: [DONE]\n\n"
THINKING = chunk({"content": None, "reasoning_content": "Think"})
#: One of each kind of event the relay tells apart, in an order a stream could have them.
EVERY_KIND = [
    event(MORE),
    b": keep-alive\n\n",
    event({**MORE, "usage": None}),
    b"data:" + orjson.dumps(MORE) + b"\n\n",
    b"event: message\ndata: " + orjson.dumps(MORE) + b"\n\n",
    event(chunk({"content": '"usage" and "error" and [DONE] in words'})),
    b"data: line one\ndata: line two\n\n",
    event(THINKING),
    event(LAST),
    event(USAGE),
    event(b"[DONE]"),
]


async def relayed(
    reads: list[bytes], *, normalize: bool = False, wants_usage: bool = False
) -> tuple[Outcome, bytes, Any]:
    channel = RecordingChannel()
    stream_relay = StreamRelay(PLAN, normalize, wants_usage, 2.0, Redactor())
    result = await stream_relay.run(raw(*reads), channel)
    return result.outcome, b"".join(channel.written), result.usage


@pytest.mark.parametrize("normalize", [False, True], ids=["as is", "normalised"])
@pytest.mark.parametrize("wants_usage", [False, True], ids=["usage unasked", "usage asked"])
async def test_one_event_per_read_gives_the_client_what_one_read_of_all_gives(
    normalize, wants_usage
) -> None:
    one_each = await relayed(EVERY_KIND, normalize=normalize, wants_usage=wants_usage)
    all_in_one = await relayed([b"".join(EVERY_KIND)], normalize=normalize, wants_usage=wants_usage)
    assert one_each == all_in_one
    outcome, sent, usage = one_each
    assert (outcome, usage) == (Outcome.SERVED, USAGE["usage"])
    assert sent.endswith(event(LAST) + (event(USAGE) if wants_usage else b"") + _DONE)
    assert b"keep-alive" not in sent and b"event:" not in sent
    assert (b'"reasoning_content"' in sent) is not normalize


@given(st.lists(st.integers(min_value=0, max_value=5_000), max_size=16))
@settings(max_examples=40, deadline=None)
def test_any_split_of_the_reads_gives_the_client_the_same_bytes(cuts) -> None:
    whole = b"".join(EVERY_KIND)
    points = sorted({c % (len(whole) + 1) for c in cuts})
    reads = [whole[a:b] for a, b in zip([0, *points], [*points, len(whole)], strict=True)]
    assert asyncio.run(relayed(reads)) == asyncio.run(relayed([whole]))


@pytest.mark.parametrize(
    ("read", "sent"),
    [
        (event(MORE), event(MORE)),
        (b": ping\n\n", b""),
        (b"data:" + orjson.dumps(MORE) + b"\n\n", event(MORE)),
        (event(USAGE), b""),
        (event({**LAST, "usage": USAGE["usage"]}), event(LAST)),
    ],
    ids=["plain", "comment", "no space", "usage chunk", "usage on content"],
)
async def test_a_read_of_one_event_is_sent_as_the_client_gets_it(read, sent) -> None:
    commit = raw(read, event(LAST), event(b"[DONE]"))
    outcome, channel = await relay(commit)
    assert outcome is Outcome.SERVED
    assert b"".join(channel.written[1:]) == sent + event(LAST) + _DONE


async def test_a_read_of_one_error_event_ends_the_stream_without_its_key() -> None:
    error = {"error": {"message": "overloaded, key sk-secret-0123456789abcdef"}}
    channel = RecordingChannel()
    redactor = Redactor(["sk-secret-0123456789abcdef"])
    commit = raw(event(MORE), event(error), event(LAST), event(b"[DONE]"))
    result = await StreamRelay(PLAN, False, False, 2.0, redactor).run(commit, channel)
    assert result.outcome is Outcome.MID_STREAM_FAILURE
    assert contents(channel) == ["Hel", "lo"]
    assert b"sk-secret" not in b"".join(channel.written)


#: Events of every kind the relay tells apart, framed as an upstream might frame them.
POOL = [
    *EVERY_KIND,
    event({**LAST, "usage": USAGE["usage"]}),
    event({"error": {"message": "overloaded"}}),
    event(MORE).replace(b"\n", b"\r\n"),
    b"data: not json\n\n",
    b"data: [DONE]\n\n",
]


@given(
    st.lists(st.sampled_from(POOL), max_size=8),
    st.lists(st.integers(min_value=0, max_value=5_000), max_size=8),
    st.booleans(),
    st.booleans(),
)
@settings(max_examples=150, deadline=None)
def test_passing_through_sends_what_rewriting_every_event_sends(
    events, cuts, normalize, wants_usage
) -> None:
    """The reference is the per-event path: every event parsed and rewritten, as the events
    held before the commit point are."""
    upstream = b"".join(events)
    parser = SSEParser()
    every_event = [orjson.dumps(FIRST), *parser.feed(upstream), *parser.close()]
    points = sorted({c % (len(upstream) + 1) for c in cuts})
    reads = [upstream[a:b] for a, b in zip([0, *points], [*points, len(upstream)], strict=True)]

    async def run(commit: Commit) -> tuple[Outcome, bytes, Any]:
        channel = RecordingChannel()
        result = await StreamRelay(PLAN, normalize, wants_usage, 2.0, Redactor()).run(
            commit, channel
        )
        return result.outcome, b"".join(channel.written), result.usage

    nothing_more = ScriptedResponse(200, content_type="text/event-stream", stream=[])
    reference = Commit(nothing_more, nothing_more.chunks(), SSEParser(), every_event, None)
    assert asyncio.run(run(raw(*reads))) == asyncio.run(run(reference))
