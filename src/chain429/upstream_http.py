"""The upstream HTTP client on aiohttp: the router's `UpstreamClient` over one pooled session.

The one function that translates aiohttp and asyncio errors into `chain429.errors`
(`upstream_error`) lives here too, so nothing above this module sees an aiohttp exception.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping
from types import TracebackType
from typing import Final

import aiohttp

from chain429.errors import (
    UpstreamConnectError,
    UpstreamError,
    UpstreamProtocolError,
    UpstreamTimeoutError,
)
from chain429.router.upstream import Timeouts

#: The longest header line an upstream may send (aiohttp's default is 8 KiB).
MAX_HEADER_BYTES: Final = 64 * 1024


#: What the HTTP client and asyncio raise for a failed call: `upstream_error` translates each.
CLIENT_FAILURES: Final = (TimeoutError, aiohttp.ClientError, ConnectionError)


def upstream_error(exc: BaseException) -> UpstreamError:
    """The `UpstreamError` that stands for `exc`, one of `CLIENT_FAILURES`. The calls on the
    request path catch those in an `except` clause (free when nothing is raised); the rest use
    `CLIENT_ERRORS`."""
    if isinstance(exc, TimeoutError | aiohttp.ServerTimeoutError):
        return UpstreamTimeoutError("upstream did not answer in time")
    if isinstance(exc, aiohttp.ClientConnectorError):
        return UpstreamConnectError(f"cannot connect to upstream ({exc.os_error.strerror})")
    return UpstreamProtocolError(f"upstream connection failed ({type(exc).__name__})")


class ClientErrors:
    """Translates the HTTP client's and asyncio's errors into `UpstreamError`s: `with
    CLIENT_ERRORS:`, for the calls off the request path (see `upstream_error`)."""

    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if isinstance(exc, CLIENT_FAILURES):
            raise upstream_error(exc) from exc


CLIENT_ERRORS: Final = ClientErrors()


class AiohttpResponse:
    """An aiohttp response as an `UpstreamResponse`. Status, headers and the time of sending
    are plain attributes: the router reads them on every call."""

    __slots__ = ("_response", "headers", "sent_at", "status")

    def __init__(self, response: aiohttp.ClientResponse, sent_at: float) -> None:
        self._response = response
        self.sent_at = sent_at
        self.status = response.status
        self.headers: Mapping[str, str] = response.headers

    @property
    def content_type(self) -> str:
        return self._response.content_type

    async def read(self, limit: int | None = None) -> bytes:
        try:
            if limit is None:
                return await self._response.read()
            return await self._read_up_to(limit)
        except CLIENT_FAILURES as exc:
            raise upstream_error(exc) from exc

    async def _read_up_to(self, limit: int) -> bytes:
        """`content.read(n)` returns what is buffered, however little: read on to the end."""
        content = self._response.content
        parts: list[bytes] = []
        size = 0
        while size < limit:
            part = await content.read(limit - size)
            if not part:
                break
            parts.append(part)
            size += len(part)
        return b"".join(parts)

    async def chunks(self) -> AsyncIterator[bytes]:
        content = self._response.content
        while True:
            try:
                chunk = await content.readany()
            except CLIENT_FAILURES as exc:
                raise upstream_error(exc) from exc
            if not chunk:
                return
            yield chunk

    def release(self) -> None:
        self._response.release()

    def close(self) -> None:
        self._response.close()


class AiohttpUpstream:
    """One pooled aiohttp session shared by every upstream call."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self._session = session
        self._timeouts: dict[Timeouts, aiohttp.ClientTimeout] = {}

    @classmethod
    def create(cls) -> AiohttpUpstream:
        connector = aiohttp.TCPConnector(limit=1024, ttl_dns_cache=300, keepalive_timeout=60)
        session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=None),
            auto_decompress=True,
            raise_for_status=False,
            # One session serves every client and key: a cookie one answer sets must not go
            # with the next call, which may be another client's.
            cookie_jar=aiohttp.DummyCookieJar(),
            # aiohttp refuses a header over 8 KiB, which would make any answer carrying one a
            # bad response: a 429 would not count as a rate limit.
            max_line_size=MAX_HEADER_BYTES,
            max_field_size=MAX_HEADER_BYTES,
        )
        return cls(session)

    async def send(
        self, url: str, headers: Mapping[str, str], body: bytes, timeouts: Timeouts
    ) -> AiohttpResponse:
        timeout = self._timeouts.get(timeouts)
        if timeout is None:
            timeout = aiohttp.ClientTimeout(
                total=None, sock_connect=timeouts.connect_s, sock_read=timeouts.read_s
            )
            self._timeouts[timeouts] = timeout
        sent_at = time.monotonic()
        try:
            response = await self._session.post(url, data=body, headers=headers, timeout=timeout)
        except CLIENT_FAILURES as exc:
            raise upstream_error(exc) from exc
        return AiohttpResponse(response, sent_at)

    async def close(self) -> None:
        await self._session.close()


async def get_once(
    url: str, headers: Mapping[str, str], timeout_s: float, limit: int
) -> tuple[int, bytes]:
    """One GET off the request path (a provider's model list) on a session of its own: the
    status and the body's first `limit` bytes, all within `timeout_s`."""
    timeout = aiohttp.ClientTimeout(total=timeout_s)
    with CLIENT_ERRORS:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(url, headers=headers) as response,
        ):
            body = await AiohttpResponse(response, time.monotonic()).read(limit)
            return response.status, body
