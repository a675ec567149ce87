"""The router's `ClientChannel` over an aiohttp request.

An answer goes to the client as soon as it is complete: a whole reply when it is given, a
stream's last chunk when the router ends it. aiohttp would otherwise send both only after the
handler returns, and the router's bookkeeping after an answer (the tracker, the record, its
metrics and log line) would add to every request's latency.

A client that reads slower than the upstream writes holds the upstream back: a write waits
while the connection's buffer is above its high-water mark (aiohttp drains it), so the relay
stops reading the upstream, and aiohttp's client stops reading its socket. A write that waits
longer than the client timeout (`settings.clientTimeoutMs`: the client read nothing for that
long) drops the connection and raises `ClientStalled`. Only a write that can wait pays for that
deadline's timer: one that fits below the high-water mark cannot wait.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping

from aiohttp import web

from chain429.router.request import ClientStalled

#: asyncio's own default, for a transport that does not say its high-water mark.
_HIGH_WATER = 64 * 1024
#: What aiohttp adds to a write: a chunk's framing, or the held status line and headers.
_FRAMING = 8 * 1024


class AiohttpChannel:
    """Answers one aiohttp request: a whole response, or a stream written as it comes."""

    __slots__ = ("_request", "_stall_s", "_stalled", "_transport", "_room", "response")

    def __init__(self, request: web.Request, stall_s: float) -> None:
        self._request = request
        self._stall_s = stall_s
        self._stalled = False
        self._transport: asyncio.Transport | None = None
        self._room = 0
        self.response: web.StreamResponse | None = None

    async def reply(self, status: int, body: bytes, headers: Mapping[str, str]) -> None:
        response = web.Response(status=status, body=body, headers=headers)
        self.response = response
        # A client that has gone is aiohttp's to notice (it cancels the handler); the answer
        # counts as given, as it did when aiohttp sent it after the handler. One that stalled
        # is the router's to record. (A try rather than contextlib.suppress, which builds an
        # object and calls two methods for every answer.)
        try:
            await response.prepare(self._request)
            self._watch()
            if self._may_wait(len(body)):
                await self._in_time(response.write_eof())
            else:
                await response.write_eof()
        except ClientStalled:
            raise
        except ConnectionError:
            pass

    async def start_stream(self, headers: Mapping[str, str]) -> None:
        # A Response, not a StreamResponse: aiohttp holds a Response's status line and headers
        # until its first body write, so they leave with the first events in one send (the
        # router writes those at once), where a StreamResponse sends them alone: one more
        # syscall, and one more wake-up of the client, per stream.
        response = web.Response(status=200, headers=headers)
        response.enable_chunked_encoding()
        self.response = response
        await response.prepare(self._request)
        self._watch()

    @property
    def answered(self) -> int | None:
        return None if self.response is None else self.response.status

    async def write(self, data: bytes) -> None:
        assert self.response is not None
        if self._may_wait(len(data)):
            await self._in_time(self.response.write(data))
        else:
            await self.response.write(data)

    async def end_stream(self) -> None:
        assert self.response is not None
        if self._stalled:
            raise ConnectionResetError("the connection was dropped")
        if self._may_wait(0):
            await self._in_time(self.response.write_eof())
        else:
            await self.response.write_eof()

    def _watch(self) -> None:
        """Note the connection's transport and how much its write buffer takes before writes
        wait (its high-water mark, less what aiohttp adds to a write)."""
        transport = self._request.transport
        if transport is None:
            return
        try:
            high = transport.get_write_buffer_limits()[1]
        except NotImplementedError:
            high = _HIGH_WATER
        self._transport = transport
        self._room = high - _FRAMING

    def _may_wait(self, size: int) -> bool:
        """Whether writing `size` more bytes may wait: if it would take the write buffer over
        its high-water mark. (Checked inline: a write that cannot wait costs no coroutine.)"""
        transport = self._transport
        return transport is not None and transport.get_write_buffer_size() + size > self._room

    async def _in_time(self, send: Awaitable[None]) -> None:
        """Await `send`, a write that may wait, within the client timeout."""
        transport = self._transport
        assert transport is not None
        try:
            async with asyncio.timeout(self._stall_s):
                await send
        except TimeoutError:
            self._stalled = True
            transport.abort()
            message = f"the client read nothing of its answer for {self._stall_s:g}s"
            raise ClientStalled(message) from None
