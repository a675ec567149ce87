"""A bug inside 429chain (an upstream client, an adapter or the tracker raising something
unexpected) still ends every request in exactly one OpenAI-shaped answer the SDK raises on and
exactly one usage record, and gives the reservation back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from typing import Any

import openai
import pytest
from structlog.testing import capture_logs

from chain429.app import AppOptions
from chain429.limits.tracker import LimitTracker
from chain429.router.upstream import Timeouts, UpstreamResponse
from chain429.server import RunningServer
from chain429.state import STATE
from chain429.upstream_http import AiohttpUpstream
from chain429.usage.records import MemorySink, RequestRecord
from tests.support.client import MESSAGES, chat
from tests.support.polling import eventually
from tests.support.proxy import PROVIDER_KEY, make_config
from tests.support.upstream import ok, reply, sse

INTERNAL = {"type": "server_error", "code": "internal_error"}


class Bug(RuntimeError):
    """What a programming error inside the proxy raises (it names a key, as bugs may)."""

    def __init__(self) -> None:
        super().__init__(f"bug while holding {PROVIDER_KEY}")


class BrokenUpstream(AiohttpUpstream):
    """An upstream client that raises on every call."""

    async def send(
        self, url: str, headers: Mapping[str, str], body: bytes, timeouts: Timeouts
    ) -> UpstreamResponse:
        raise Bug()


class BreaksAfterFirstEvent:
    """A response whose body reader raises once a whole event has been read."""

    def __init__(self, response: UpstreamResponse) -> None:
        self._response = response

    def __getattr__(self, name: str) -> Any:
        return getattr(self._response, name)

    async def chunks(self) -> AsyncIterator[bytes]:
        inner = self._response.chunks()
        seen = b""
        while b"\n\n" not in seen:
            chunk = await anext(inner, None)
            if chunk is None:
                return
            seen += chunk
            yield chunk
        raise Bug()


class BreaksMidStream(AiohttpUpstream):
    async def send(
        self, url: str, headers: Mapping[str, str], body: bytes, timeouts: Timeouts
    ) -> UpstreamResponse:
        return BreaksAfterFirstEvent(await super().send(url, headers, body, timeouts))


async def one_record(sink: MemorySink) -> RequestRecord:
    await eventually(lambda: bool(sink.records), what="a usage record")
    assert len(sink.records) == 1, sink.records
    return sink.records[0]


def nothing_in_flight(server: RunningServer) -> bool:
    tracker = server.app[STATE].tracker
    return all(state.in_flight == 0 for _, state in tracker.model_states())


async def ask(client: openai.AsyncOpenAI, stream: bool) -> list[str]:
    """The content the SDK hands over, stream or not."""
    if not stream:
        completion = await client.chat.completions.create(model="default", messages=MESSAGES)
        return [completion.choices[0].message.content or ""]
    parts = await client.chat.completions.create(model="default", messages=MESSAGES, stream=True)
    return [p.choices[0].delta.content or "" async for p in parts if p.choices]


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
async def test_an_upstream_client_that_raises(
    upstream_factory, proxy_factory, client_factory, stream
):
    a = await upstream_factory(ok())
    sink = MemorySink()
    options = AppOptions(sink=sink, upstream_factory=BrokenUpstream.create)
    server = await proxy_factory(make_config([("a", a.base_url)]), options)
    with capture_logs() as logs, pytest.raises(openai.InternalServerError) as caught:
        await ask(client_factory(server), stream)
    (logged,) = [e for e in logs if e["log_level"] == "error"]
    assert logged["event"] == "internal error" and logged["exc_info"] is True
    assert caught.value.status_code == 500
    assert {k: caught.value.body[k] for k in INTERNAL} == INTERNAL
    assert PROVIDER_KEY not in caught.value.response.text
    record = await one_record(sink)
    assert (record.status, record.error_class, record.provider_id) == (500, "internal_error", None)
    assert [(t.provider_id, t.outcome.value) for t in record.attempts] == [("a", "internal_error")]
    assert PROVIDER_KEY not in repr(record)
    assert nothing_in_flight(server)


async def test_a_fault_in_a_committed_stream_ends_it_with_an_error_event(
    upstream_factory, proxy_factory, client_factory
):
    a = await upstream_factory(sse(gate=asyncio.Event(), gate_after=1))
    sink = MemorySink()
    options = AppOptions(sink=sink, upstream_factory=BreaksMidStream.create)
    server = await proxy_factory(make_config([("a", a.base_url)]), options)
    with pytest.raises(openai.APIError) as caught:
        await ask(client_factory(server), stream=True)
    assert isinstance(caught.value.body, dict)
    assert {k: caught.value.body[k] for k in INTERNAL} == INTERNAL
    record = await one_record(sink)
    assert (record.status, record.error_class, record.provider_id) == (200, "internal_error", "a")
    assert record.streamed is True
    assert [t.outcome.value for t in record.attempts] == ["internal_error"]
    assert nothing_in_flight(server)


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
async def test_a_tracker_that_raises_after_the_answer_keeps_the_answer(
    upstream_factory, proxy_factory, client_factory, http, monkeypatch, stream
):
    a = await upstream_factory(ok("hello"))
    sink = MemorySink()
    server = await proxy_factory(make_config([("a", a.base_url)]), AppOptions(sink=sink))

    def record(self: LimitTracker, *args: object, **kwargs: object) -> None:
        raise Bug()

    monkeypatch.setattr(LimitTracker, "record", record)
    assert "".join(await ask(client_factory(server), stream)) == "hello"
    served = await one_record(sink)
    assert (served.status, served.error_class, served.provider_id) == (200, "internal_error", "a")
    assert nothing_in_flight(server)
    if stream:
        sink.records.clear()
        answer = await chat(http, server, stream=True)
        assert answer.events()[-1] == b"[DONE]", "a finished stream gets nothing after [DONE]"
        assert all("error" not in c for c in answer.chunks())


async def test_a_tracker_that_raises_on_a_429_gives_one_error(
    upstream_factory, proxy_factory, client_factory, monkeypatch
):
    a = await upstream_factory(reply(429, {"error": {"message": "slow down"}}))
    b = await upstream_factory(ok())
    sink = MemorySink()
    config = make_config([("a", a.base_url), ("b", b.base_url)])
    server = await proxy_factory(config, AppOptions(sink=sink))

    def record(self: LimitTracker, *args: object, **kwargs: object) -> None:
        raise OverflowError("(34, 'Numerical result out of range')")

    monkeypatch.setattr(LimitTracker, "record", record)
    with pytest.raises(openai.InternalServerError):
        await ask(client_factory(server), stream=False)
    failed = await one_record(sink)
    assert (failed.status, failed.error_class) == (500, "internal_error")
    assert nothing_in_flight(server)
