"""An upstream that answers as fast as the connection takes it, counting what it got out: for
tests that a slow client holds the upstream back instead of making the proxy buffer the answer.

`Flood.stream` writes SSE chunks of `EVENT_TEXT_BYTES` of content each, numbered, then a
finish, a usage chunk and `[DONE]`; `Flood.whole` one JSON completion of about the same size.
`sent` counts the bytes each write handed to the connection once it returned (aiohttp waits for
the socket to drain whenever more than 64 KiB are pending), so it stops growing when the
connection stops taking more.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web

from tests.support.upstream import Behaviour, chunk, completion, usage_chunk

EVENT_TEXT_BYTES = 8 * 1024
#: The upstream's socket send buffer (the kernel doubles it).
SEND_BUFFER_BYTES = 64 * 1024
#: Chunks per write: the upstream hands the connection about 64 KiB at a time.
EVENTS_PER_WRITE = 8


def event_text(index: int) -> str:
    """The content of event `index`: its number, then filler up to `EVENT_TEXT_BYTES`."""
    number = f"{index:08d}|"
    return number + "x" * (EVENT_TEXT_BYTES - len(number))


def _frame(obj: dict[str, Any]) -> bytes:
    return b"data: " + orjson.dumps(obj) + b"\n\n"


@dataclass
class Flood:
    """`events` content chunks of `EVENT_TEXT_BYTES`, as a stream or as one whole answer."""

    events: int
    sent: int = 0
    finished: bool = False

    @property
    def text(self) -> str:
        """The whole answer's content."""
        return "".join(event_text(i) for i in range(self.events))

    def stream(self) -> Behaviour:
        async def behaviour(request: web.Request, _: dict[str, Any]) -> web.StreamResponse:
            response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
            self._small_send_buffer(request)
            await response.prepare(request)
            first = _frame(chunk({"role": "assistant", "content": ""}))
            batch = [first]
            for index in range(self.events):
                batch.append(_frame(chunk({"content": event_text(index)})))
                if len(batch) >= EVENTS_PER_WRITE:
                    await self._write(response, batch)
                    batch = []
            batch += [_frame(chunk({}, "stop")), _frame(usage_chunk()), b"data: [DONE]\n\n"]
            await self._write(response, batch)
            await response.write_eof()
            self.finished = True
            return response

        return behaviour

    def whole(self) -> Behaviour:
        async def behaviour(request: web.Request, _: dict[str, Any]) -> web.StreamResponse:
            body = orjson.dumps(completion(self.text))
            response = web.StreamResponse(
                headers={"Content-Type": "application/json", "Content-Length": str(len(body))}
            )
            await response.prepare(request)
            step = EVENTS_PER_WRITE * EVENT_TEXT_BYTES
            for start in range(0, len(body), step):
                await self._write(response, [body[start : start + step]])
            await response.write_eof()
            self.finished = True
            return response

        return behaviour

    @staticmethod
    def _small_send_buffer(request: web.Request) -> None:
        """Pin this end's kernel send buffer (autotuned on loopback up to `tcp_wmem`'s 4 MiB):
        what stalls then shows in `sent` instead of waiting in the upstream's own socket."""
        assert request.transport is not None
        sock = request.transport.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER_BYTES)

    async def _write(self, response: web.StreamResponse, parts: list[bytes]) -> None:
        data = b"".join(parts)
        await response.write(data)
        self.sent += len(data)
