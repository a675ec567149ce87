"""The router's `ClientChannel` over an aiohttp request."""

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
        self.response = web.Response(status=status, body=body, headers=headers)

    async def start_stream(self, headers: Mapping[str, str]) -> None:
        response = web.StreamResponse(status=200, headers=headers)
        response.enable_chunked_encoding()
        self.response = response
        await response.prepare(self._request)

    @property
    def answered(self) -> int | None:
        return None if self.response is None else self.response.status

    async def write(self, data: bytes) -> None:
        assert self.response is not None
        await self.response.write(data)
