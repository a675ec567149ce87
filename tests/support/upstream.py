"""A scriptable fake upstream on 127.0.0.1 for fault injection.

Each call to `/v1/chat/completions` or `/v1/completions` takes the next `Behaviour` from the
script (the last one repeats); each `GET /v1/models` the next of `models` (a 404 without any).
Behaviours are small async functions that answer the aiohttp request however a misbehaving
provider might: a status and body, SSE events framed any way, a hang, a connection dropped
mid-stream.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

Behaviour = Callable[[web.Request, dict[str, Any]], Awaitable[web.StreamResponse]]


@dataclass
class FakeUpstream:
    script: list[Behaviour]
    received: list[dict[str, Any]] = field(default_factory=list)
    headers_seen: list[dict[str, str]] = field(default_factory=list)
    models: list[Behaviour] = field(default_factory=list)
    models_calls: int = 0
    disconnects: int = 0
    disconnected: asyncio.Event = field(default_factory=asyncio.Event)
    request_seen: asyncio.Event = field(default_factory=asyncio.Event)
    _runner: web.AppRunner | None = None
    port: int = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def calls(self) -> int:
        return len(self.received)

    async def start(self) -> FakeUpstream:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._handle)
        app.router.add_post("/v1/completions", self._handle)
        app.router.add_get("/v1/models", self._list_models)
        self._runner = web.AppRunner(app, handler_cancellation=True, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = orjson.loads(await request.read())
        index = min(len(self.received), len(self.script) - 1)
        self.received.append(body)
        self.headers_seen.append(dict(request.headers))
        self.request_seen.set()
        try:
            return await self.script[index](request, body)
        except asyncio.CancelledError:
            self.disconnects += 1
            self.disconnected.set()
            raise

    async def _list_models(self, request: web.Request) -> web.StreamResponse:
        if not self.models:
            return web.json_response({"error": {"message": "no such route"}}, status=404)
        index = min(self.models_calls, len(self.models) - 1)
        self.models_calls += 1
        self.headers_seen.append(dict(request.headers))
        return await self.models[index](request, {})


def model_list(*ids: str) -> Behaviour:
    """A `/models` answer listing `ids`, in OpenAI's shape."""
    data = [{"id": i, "object": "model", "created": 1_800_000_000, "owned_by": "fake"} for i in ids]
    return reply(body={"object": "list", "data": data})


def completion(text: str = "hello", model: str = "fake-model") -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 1_800_000_000,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6},
    }


def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": 1_800_000_000,
        "model": "fake-model",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def usage_chunk() -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": 1_800_000_000,
        "model": "fake-model",
        "choices": [],
        "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
    }


def standard_events(words: Sequence[str] = ("Hel", "lo")) -> list[bytes]:
    events = [orjson.dumps(chunk({"role": "assistant", "content": ""}))]
    events += [orjson.dumps(chunk({"content": w})) for w in words]
    events.append(orjson.dumps(chunk({}, "stop")))
    events.append(orjson.dumps(usage_chunk()))
    events.append(b"[DONE]")
    return events


def reply(
    status: int = 200,
    body: Any = None,
    headers: dict[str, str] | None = None,
    raw: bytes | None = None,
    content_type: str = "application/json",
) -> Behaviour:
    async def behaviour(request: web.Request, _: dict[str, Any]) -> web.StreamResponse:
        payload = (
            raw if raw is not None else orjson.dumps(body if body is not None else completion())
        )
        return web.Response(status=status, body=payload, headers=headers, content_type=content_type)

    return behaviour


def sse(
    events: Sequence[bytes] | None = None,
    *,
    newline: bytes = b"\n",
    space: bool = True,
    pieces: int = 0,
    delay_s: float = 0.0,
    drop_after: int | None = None,
    trailing_blank: bool = True,
    prefix: bytes = b"",
    headers: dict[str, str] | None = None,
    hang_after: int | None = None,
    keepalive: bytes = b"",
    gate: asyncio.Event | None = None,
    gate_after: int = 1,
    sent_all: asyncio.Event | None = None,
) -> Behaviour:
    """Stream `events` as SSE. `pieces` > 0 splits the byte stream into that many-byte writes;
    `drop_after` closes the connection after that many events; `hang_after` stops sending.
    `keepalive` is written before every event (a `: comment` line, say); `gate` holds the
    stream after `gate_after` events until it is set; `sent_all` is set once every event went."""
    items = list(events if events is not None else standard_events())

    async def write(response: web.StreamResponse, frame: bytes) -> None:
        if pieces:
            for start in range(0, len(frame), pieces):
                await response.write(frame[start : start + pieces])
        else:
            await response.write(frame)

    async def behaviour(request: web.Request, _: dict[str, Any]) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", **(headers or {})}
        )
        await response.prepare(request)
        if prefix:
            await response.write(prefix)
        sep = b"data: " if space else b"data:"
        for index, data in enumerate(items):
            if drop_after is not None and index == drop_after:
                assert request.transport is not None
                request.transport.close()
                return response
            if hang_after is not None and index == hang_after:
                await asyncio.Event().wait()
            if gate is not None and index == gate_after:
                await gate.wait()
            last = index == len(items) - 1
            ending = newline + newline if trailing_blank or not last else newline
            frame = b"".join(sep + line + newline for line in data.split(b"\n"))
            frame = keepalive + frame[: -len(newline)] + ending
            await write(response, frame)
            if delay_s:
                await asyncio.sleep(delay_s)
        if sent_all is not None:
            sent_all.set()
        return response

    return behaviour


def ok(text: str = "hello") -> Behaviour:
    """A healthy provider: a completion, as JSON or as a standard stream, as the request asks."""
    whole = reply(body=completion(text))
    streamed = sse(standard_events([text[: len(text) // 2], text[len(text) // 2 :]]))

    async def behaviour(request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        return await (streamed if body.get("stream") else whole)(request, body)

    return behaviour


def cut_body(status: int = 200) -> Behaviour:
    """Promises a JSON body by Content-Length, sends half of it, and drops the connection."""

    async def behaviour(request: web.Request, _: dict[str, Any]) -> web.StreamResponse:
        payload = orjson.dumps(completion())
        response = web.StreamResponse(
            status=status,
            headers={"Content-Type": "application/json", "Content-Length": str(len(payload))},
        )
        await response.prepare(request)
        await response.write(payload[: len(payload) // 2])
        assert request.transport is not None
        request.transport.close()
        return response

    return behaviour


def gated(behaviour: Behaviour, gate: asyncio.Event) -> Behaviour:
    """`behaviour`, once `gate` is set (to hold several requests in flight at once)."""

    async def held(request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        await gate.wait()
        return await behaviour(request, body)

    return held


def text_completion(text: str = "hello") -> dict[str, Any]:
    return {
        "id": "cmpl-fake",
        "object": "text_completion",
        "created": 1_800_000_000,
        "model": "fake-model",
        "choices": [{"index": 0, "text": text, "finish_reason": "stop", "logprobs": None}],
        "usage": {"prompt_tokens": 2, "completion_tokens": 1, "total_tokens": 3},
    }


def text_events(words: Sequence[str] = ("Hel", "lo")) -> list[bytes]:
    def piece(text: str, finish: str | None) -> bytes:
        choice = {"index": 0, "text": text, "finish_reason": finish, "logprobs": None}
        return orjson.dumps(
            {
                "id": "cmpl-fake",
                "object": "text_completion",
                "created": 1_800_000_000,
                "model": "fake-model",
                "choices": [choice],
            }
        )

    return [*(piece(w, None) for w in words), piece("", "stop"), b"[DONE]"]


def closed_port_url() -> str:
    """A base URL on 127.0.0.1 where nothing listens (connections are refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def hang() -> Behaviour:
    async def behaviour(request: web.Request, _: dict[str, Any]) -> web.StreamResponse:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    return behaviour


def slow_json(delay_s: float) -> Behaviour:
    """Answers a whole completion after `delay_s` (the simulated latency of a slow provider)."""

    async def behaviour(request: web.Request, _: dict[str, Any]) -> web.StreamResponse:
        await asyncio.sleep(delay_s)
        return web.json_response(completion())

    return behaviour


def trickle(status: int, payload: bytes, *, pieces: int, pause_s: float) -> Behaviour:
    """Answers `payload` in `pieces` separate writes with a pause after each but the last (an
    error body that reaches the proxy over several TCP reads)."""

    async def behaviour(request: web.Request, _: dict[str, Any]) -> web.StreamResponse:
        response = web.StreamResponse(status=status, headers={"Content-Type": "application/json"})
        await response.prepare(request)
        size = -(-len(payload) // pieces)
        for start in range(0, len(payload), size):
            if start:
                await asyncio.sleep(pause_s)
            await response.write(payload[start : start + size])
        await response.write_eof()
        return response

    return behaviour
