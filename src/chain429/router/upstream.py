"""The upstream HTTP client as the router sees it: a small interface of our own.

Everything the router needs from an HTTP client is `UpstreamClient.send` and the
`UpstreamResponse` it returns, raising only `chain429.errors.UpstreamError`s. The aiohttp
implementation is I/O and lives outside the router (`chain429.upstream_http`); tests put fakes
in its place, and another client can be measured there without touching the waterfall.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from chain429.errors import UpstreamError

MAX_ERROR_BODY_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds allowed to connect, and between two reads of the body (None: no such limit;
    the caller bounds the whole call)."""

    connect_s: float
    read_s: float | None


class UpstreamResponse(Protocol):
    @property
    def status(self) -> int: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    @property
    def content_type(self) -> str: ...

    @property
    def sent_at(self) -> float:
        """`time.monotonic()` when the request was sent."""

    async def read(self, limit: int | None = None) -> bytes:
        """The body to its end, or its first `limit` bytes when it is longer."""

    def chunks(self) -> AsyncIterator[bytes]: ...

    def release(self) -> None:
        """Hand the connection back: fully-read responses keep it alive, others close it."""

    def close(self) -> None:
        """Drop the connection now (the client went away or the body is abandoned)."""


class UpstreamClient(Protocol):
    async def send(
        self, url: str, headers: Mapping[str, str], body: bytes, timeouts: Timeouts
    ) -> UpstreamResponse: ...

    async def close(self) -> None: ...


async def read_and_release(response: UpstreamResponse) -> bytes:
    """The first `MAX_ERROR_BODY_BYTES` of a small (error) body, with the connection released
    (closed when the task is being cancelled); b"" when reading fails: never raises upstream
    errors."""
    try:
        return await response.read(MAX_ERROR_BODY_BYTES)
    except UpstreamError:
        return b""
    finally:
        response.close() if _cancelled() else response.release()


def _cancelled() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


#: GET `url` with `headers` within `timeout_s`: (status, the body's first `limit` bytes).
#: Raises `UpstreamError`s only (`upstream_http.get_once` is the real one).
Fetch = Callable[[str, Mapping[str, str], float, int], Awaitable[tuple[int, bytes]]]
