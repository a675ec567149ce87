"""The upstream HTTP client on pyreqwest (Rust's reqwest on a tokio thread), in the place of
`chain429.upstream_http`'s aiohttp client, behind the router's `UpstreamClient` seam.

An optional dependency, chosen with `429chain serve --upstream-client pyreqwest`; issue 14
measured it against aiohttp's client and kept aiohttp (bench/README.md, "Upstream clients"):
not faster on one core, and a call cancelled before its response head is not cut off
(pyreqwest 0.15 lets the request's tokio task run on until the provider answers; once the
head is in, `close` does stop the body and drop the connection).

reqwest sets its connect timeout per client, not per request, so there is one client (with its
own connection pool) per distinct `Timeouts`: a few at most, one per provider timeout in the
config. The read timeout is not reqwest's: reqwest counts from one read of the body to the
next, time the router spent not reading included, so a client reading its stream slowly would
look like an upstream stall (issue 16); each read waits under a timeout of its own instead.
Every body is read as a stream with a read buffer limit of 0, so each chunk reaches the router
as it arrives (with any other limit pyreqwest holds chunks back until that many bytes are
buffered).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import contextmanager
from datetime import timedelta
from typing import Final

from pyreqwest.client import Client, ClientBuilder
from pyreqwest.exceptions import (
    ConnectError,
    PyreqwestError,
    RequestTimeoutError,
)
from pyreqwest.request import StreamRequest
from pyreqwest.response import Response

from chain429.errors import (
    UpstreamConnectError,
    UpstreamError,
    UpstreamProtocolError,
    UpstreamTimeoutError,
)
from chain429.router.upstream import Timeouts
from chain429.tasks import create_task

#: As `AiohttpUpstream`: requests in flight at once, and how long an idle connection is kept.
MAX_CONNECTIONS: Final = 1024
IDLE_TIMEOUT: Final = timedelta(seconds=60)
_OS_ERROR: Final = re.compile(r"\s*\(os error \d+\)$")


@contextmanager
def map_client_errors() -> Iterator[None]:
    """Translate pyreqwest's errors into `UpstreamError`s (as `upstream_http` does aiohttp's)."""
    try:
        yield
    except UpstreamError:
        raise
    except (TimeoutError, RequestTimeoutError) as exc:
        raise UpstreamTimeoutError("upstream did not answer in time") from exc
    except ConnectError as exc:
        raise UpstreamConnectError(f"cannot connect to upstream ({_cause(exc)})") from exc
    except (PyreqwestError, ConnectionError) as exc:
        raise UpstreamProtocolError(f"upstream connection failed ({type(exc).__name__})") from exc


def _cause(exc: ConnectError) -> str:
    """The innermost cause, as the OS words it ("Connection refused")."""
    causes = exc.details.get("causes") or [{"message": exc.message}]
    return _OS_ERROR.sub("", causes[-1]["message"])


class PyreqwestResponse:
    """A streamed pyreqwest response as an `UpstreamResponse`."""

    __slots__ = (
        "_request",
        "_response",
        "_sent_at",
        "_read_s",
        "_content_type",
        "_read_to_end",
    )

    def __init__(
        self, request: StreamRequest, response: Response, sent_at: float, read_s: float | None
    ) -> None:
        self._request = request
        self._response = response
        self._sent_at = sent_at
        self._read_s = read_s
        self._content_type: str | None = None
        self._read_to_end = False

    @property
    def sent_at(self) -> float:
        return self._sent_at

    @property
    def status(self) -> int:
        return self._response.status

    @property
    def headers(self) -> Mapping[str, str]:
        return self._response.headers

    @property
    def content_type(self) -> str:
        """The media type alone, lower-cased (as aiohttp's `content_type`)."""
        if self._content_type is None:
            raw = self._response.get_header("content-type") or "application/octet-stream"
            self._content_type = raw.partition(";")[0].strip().lower()
        return self._content_type

    async def read(self, limit: int | None = None) -> bytes:
        with map_client_errors():
            if limit is None:
                body = bytes(await self._response.bytes())
                self._read_to_end = True
                return body
            return await self._read_up_to(limit)

    async def _read_up_to(self, limit: int) -> bytes:
        """The body's first `limit` bytes, or all of it (its connection then goes back to the
        pool on release)."""
        reader = self._response.body_reader
        parts: list[bytes] = []
        size = 0
        while size < limit:
            part = await reader.read(limit - size)
            if part is None:
                self._read_to_end = True
                break
            parts.append(bytes(part))
            size += len(part)
        return b"".join(parts)

    async def chunks(self) -> AsyncIterator[bytes]:
        reader = self._response.body_reader
        read_s = self._read_s
        while True:
            with map_client_errors():
                if read_s is None:
                    chunk = await reader.read_chunk()
                else:
                    async with asyncio.timeout(read_s):
                        chunk = await reader.read_chunk()
            if chunk is None:
                self._read_to_end = True
                return
            yield bytes(chunk)

    def release(self) -> None:
        """A body read to its end has already given its connection back to the pool; one read
        in part is closed."""
        if not self._read_to_end:
            self.close()

    def close(self) -> None:
        """Stop the body's reader on the tokio side, which drops the connection (unless the
        body was read to its end). The close is a coroutine: it runs as a task."""
        create_task(self._request.__aexit__(None, None, None), name="upstream-close")


class PyreqwestUpstream:
    """pyreqwest clients shared by every upstream call, one per distinct `Timeouts`."""

    def __init__(self) -> None:
        self._clients: dict[Timeouts, Client] = {}

    @classmethod
    def create(cls) -> PyreqwestUpstream:
        return cls()

    def _client(self, timeouts: Timeouts) -> Client:
        client = self._clients.get(timeouts)
        if client is None:
            builder = (
                ClientBuilder()
                .max_connections(MAX_CONNECTIONS)
                .pool_idle_timeout(IDLE_TIMEOUT)
                .connect_timeout(timedelta(seconds=timeouts.connect_s))
            )
            client = self._clients[timeouts] = builder.build()
        return client

    async def send(
        self, url: str, headers: Mapping[str, str], body: bytes, timeouts: Timeouts
    ) -> PyreqwestResponse:
        request = (
            self._client(timeouts)
            .post(url)
            .headers(headers)
            .body_bytes(body)
            .streamed_read_buffer_limit(0)
            .build_streamed()
        )
        sent_at = time.monotonic()
        with map_client_errors():
            response = await request.__aenter__()
        return PyreqwestResponse(request, response, sent_at, timeouts.read_s)

    async def close(self) -> None:
        for client in self._clients.values():
            await client.close()
        self._clients.clear()
