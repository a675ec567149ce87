"""Fakes for the router's two seams, in memory: the `ClientChannel` it answers on and the
`UpstreamClient` it calls. Router unit tests drive a `Waterfall`, an `Attempter` or a
`StreamRelay` through them on a `FakeClock`, with no sockets.

An upstream is a script of replies, one per call (the last one repeats): a `ScriptedResponse`,
an exception to raise from `send`, or `HANG` (the call never returns). A streamed body is a
list of items read in turn: bytes, an exception to raise from the read, `HANG`, or a `Gate`
the read stops at until the test opens it (so it can look at the client between two chunks).
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, NamedTuple

import orjson

from chain429.config.schema import Config
from chain429.limits.tracker import LimitTracker
from chain429.router.plan import tracker_setup
from chain429.router.request import ClientRequest, Endpoint
from chain429.router.sse import SSEParser
from chain429.router.upstream import Timeouts
from chain429.router.waterfall import Waterfall
from tests.support.clock import FakeClock
from tests.support.upstream import completion
from tests.support.usage_records import MemorySink


class _Hang:
    def __repr__(self) -> str:
        return "HANG"


#: A reply or a read that never comes (until the task is cancelled).
HANG: Final = _Hang()


class Gate:
    """A point in a stream where the reading stops (`reached`) until the test calls `open`."""

    def __init__(self) -> None:
        self.reached = asyncio.Event()
        self._opened = asyncio.Event()

    def open(self) -> None:
        self._opened.set()

    async def pass_through(self) -> None:
        self.reached.set()
        await self._opened.wait()


StreamItem = bytes | BaseException | _Hang | Gate


async def _hang() -> None:
    await asyncio.Event().wait()


@dataclass
class ScriptedResponse:
    """One upstream response: a whole body, or `stream` items read one by one by `chunks`."""

    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    stream: Sequence[StreamItem] = ()
    gate: Gate | None = None  # `send` stops there before it returns this response
    sent_at: float = field(default_factory=time.monotonic)
    released: bool = False
    closed: bool = False

    async def read(self, limit: int | None = None) -> bytes:
        return self.body if limit is None else self.body[:limit]

    async def chunks(self) -> AsyncIterator[bytes]:
        for item in self.stream:
            if isinstance(item, BaseException):
                raise item
            if isinstance(item, _Hang):
                await _hang()
            elif isinstance(item, Gate):
                await item.pass_through()
            else:
                yield item

    def release(self) -> None:
        self.released = True

    def close(self) -> None:
        self.closed = True

    def __repr__(self) -> str:  # short and stable: it names parametrized tests
        what = f"stream of {len(self.stream)}" if self.stream else repr(self.body[:24])
        return f"<{self.status} {what}>"

    @property
    def let_go(self) -> bool:
        """Whether the connection was handed back or dropped (never left open)."""
        return self.released or self.closed


class Sent(NamedTuple):
    url: str
    headers: Mapping[str, str]
    payload: dict[str, Any]
    timeouts: Timeouts

    @property
    def key(self) -> str:
        return self.headers["Authorization"].removeprefix("Bearer ")


class ScriptedUpstream:
    """An `UpstreamClient` that answers each call with the next reply of its script."""

    def __init__(self, *script: ScriptedResponse | BaseException | _Hang) -> None:
        assert script, "a script needs at least one reply"
        self.script = list(script)
        self.sent: list[Sent] = []
        self.responses: list[ScriptedResponse] = []
        self.closed = False

    @property
    def calls(self) -> int:
        return len(self.sent)

    async def send(
        self, url: str, headers: Mapping[str, str], body: bytes, timeouts: Timeouts
    ) -> ScriptedResponse:
        reply = self.script[min(len(self.sent), len(self.script) - 1)]
        self.sent.append(Sent(url, dict(headers), orjson.loads(body), timeouts))
        if isinstance(reply, BaseException):
            raise reply
        if isinstance(reply, _Hang):
            await _hang()
            raise AssertionError("unreachable")
        if reply.gate is not None:
            await reply.gate.pass_through()
        response = dataclasses.replace(reply, sent_at=time.monotonic())
        self.responses.append(response)
        return response

    async def close(self) -> None:
        self.closed = True


class Answer(NamedTuple):
    status: int
    headers: Mapping[str, str]
    body: bytes  # empty for a stream: its bytes are the channel's `written`


class RecordingChannel:
    """A `ClientChannel` that keeps every answer and every byte written; `leave()` makes the
    client go away (writes then raise ConnectionError)."""

    def __init__(self) -> None:
        self.answers: list[Answer] = []
        self.written: list[bytes] = []
        self.gone = False
        self.ended = False  # the stream's end was sent

    async def reply(self, status: int, body: bytes, headers: Mapping[str, str]) -> None:
        self.answers.append(Answer(status, dict(headers), body))

    async def start_stream(self, headers: Mapping[str, str]) -> None:
        self.answers.append(Answer(200, dict(headers), b""))

    async def write(self, data: bytes) -> None:
        if self.gone:
            raise ConnectionError("the client went away")
        self.written.append(data)

    async def end_stream(self) -> None:
        if self.gone:
            raise ConnectionError("the client went away")
        self.ended = True

    def leave(self) -> None:
        self.gone = True

    @property
    def answered(self) -> int | None:
        return self.answers[-1].status if self.answers else None

    @property
    def answer(self) -> Answer:
        """The one answer the client got (fails when it got none, or more than one)."""
        assert len(self.answers) == 1, f"{len(self.answers)} answers: {self.answers}"
        return self.answers[0]

    def json(self) -> Any:
        return orjson.loads(self.answer.body)

    @property
    def error(self) -> dict[str, Any]:
        return self.json()["error"]

    def events(self) -> list[bytes]:
        """The SSE events of the stream written so far, as their `data` payloads."""
        parser = SSEParser()
        return [*parser.feed(b"".join(self.written)), *parser.close()]

    def event_json(self) -> list[Any]:
        return [orjson.loads(e) for e in self.events() if e != b"[DONE]"]


def json_response(
    status: int = 200, document: Any = None, headers: Mapping[str, str] | None = None
) -> ScriptedResponse:
    """A JSON answer (a completion by default)."""
    body = orjson.dumps(completion() if document is None else document)
    return ScriptedResponse(status, body, dict(headers or {}))


def error_response(
    status: int, message: str = "nope", headers: Mapping[str, str] | None = None
) -> ScriptedResponse:
    return json_response(status, {"error": {"message": message}}, headers)


def sse_response(*items: bytes | dict[str, Any] | StreamItem) -> ScriptedResponse:
    """An event stream: a dict or bytes item is one `data:` event, anything else is as in
    `ScriptedResponse.stream`."""
    stream: list[StreamItem] = []
    for item in items:
        if isinstance(item, dict):
            item = orjson.dumps(item)
        stream.append(b"data: " + item + b"\n\n" if isinstance(item, bytes) else item)
    return ScriptedResponse(200, content_type="text/event-stream", stream=stream)


def client_request(
    model: str | None = "default",
    *,
    stream: bool = False,
    wants_usage: bool = False,
    max_tokens: int | None = None,
    request_id: str = "req-1",
    **fields: Any,
) -> ClientRequest:
    body: dict[str, Any] = {"messages": [{"role": "user", "content": "hi"}], **fields}
    if model is not None:
        body["model"] = model
    if stream:
        body["stream"] = True
    return ClientRequest(
        request_id, Endpoint.CHAT, body, model, stream, wants_usage, 10, max_tokens, 0.0
    )


@dataclass
class Router:
    """A waterfall over a scripted upstream, with the tracker and sink it uses."""

    waterfall: Waterfall
    upstream: ScriptedUpstream
    tracker: LimitTracker
    sink: MemorySink
    clock: FakeClock

    async def serve(
        self, request: ClientRequest | None = None, channel: RecordingChannel | None = None
    ) -> RecordingChannel:
        """Serve `request` (a plain chat request for `default` by default); the channel."""
        channel = channel or RecordingChannel()
        await self.waterfall.serve(request or client_request(), channel)
        return channel


def make_router(
    config: Config,
    upstream: ScriptedUpstream,
    clock: FakeClock | None = None,
    sink: MemorySink | None = None,
) -> Router:
    """The app's waterfall, wired as `app.py` wires it, around fakes."""
    clock = clock or FakeClock()
    tracker = LimitTracker.of(tracker_setup(config), clock)
    sink = sink if sink is not None else MemorySink()
    return Router(Waterfall(config, tracker, upstream, sink, clock), upstream, tracker, sink, clock)
