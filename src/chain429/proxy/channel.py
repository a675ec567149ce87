"""The router's `ClientChannel` over an aiohttp request.

An answer goes to the client as soon as it is complete: a whole reply when it is given, a
stream's last chunk when the router ends it. aiohttp would otherwise send both only after the
handler returns, and the router's bookkeeping after an answer (the tracker, the record, its
metrics and log line) would add to every request's latency.
"""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web


class AiohttpChannel:
    """Answers one aiohttp request: a whole response, or a stream written as it comes."""

    __slots__ = ("_request", "response")

    def __init__(self, request: web.Request) -> None:
        self._request = request
        self.response: web.StreamResponse | None = None

    async def reply(self, status: int, body: bytes, headers: Mapping[str, str]) -> None:
        response = web.Response(status=status, body=body, headers=headers)
        self.response = response
        # A client that has gone is aiohttp's to notice (it cancels the handler); the answer
        # counts as given, as it did when aiohttp sent it after the handler. (A try rather than
        # contextlib.suppress, which builds an object and calls two methods for every answer.)
        try:
            await response.prepare(self._request)
            await response.write_eof()
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

    @property
    def answered(self) -> int | None:
        return None if self.response is None else self.response.status

    async def write(self, data: bytes) -> None:
        assert self.response is not None
        await self.response.write(data)

    async def end_stream(self) -> None:
        assert self.response is not None
        await self.response.write_eof()
