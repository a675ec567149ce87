"""One chat completion through the proxy, as the memory benchmarks' client makes it (aiohttp):
a JSON answer read whole, or a stream read event by event, optionally left by the client after
its first event (a cut mid-stream) or given up when no headers came within a time (a cut before
the proxy committed, e.g. while the request waits in queue mode)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp
import orjson

from payloads import CLIENT_KEY

HEADERS = {"Authorization": f"Bearer {CLIENT_KEY}", "Content-Type": "application/json"}
PROVIDER_HEADER = "X-429chain-Provider"
_DONE = b"data: [DONE]"
_DATA = b"data: "


@dataclass(frozen=True, slots=True)
class Answer:
    """How one call ended: the status, the provider that served it, and whether it is whole
    (a JSON body, or a stream up to `[DONE]`) or was left on purpose (`cancelled`: after the
    first event, or before any headers came). `events` counts a stream's events that carried
    content."""

    status: int
    provider: str | None = None
    whole: bool = False
    cancelled: bool = False
    error: str | None = None
    events: int = 0

    @property
    def ok(self) -> bool:
        if self.error is not None:
            return False
        return self.cut_before_headers or (self.status == 200 and (self.whole or self.cancelled))

    @property
    def cut_before_headers(self) -> bool:
        """Given up by the client before the proxy answered (status 0, no error)."""
        return self.cancelled and self.status == 0


def has_content(data: bytes) -> bool:
    """Whether one SSE `data:` payload (JSON) is a chunk with non-empty text content."""
    try:
        chunk = orjson.loads(data)
    except orjson.JSONDecodeError:
        return False
    choices = chunk.get("choices") if isinstance(chunk, dict) else None
    if not choices or not isinstance(choices[0], dict):
        return False
    delta = choices[0].get("delta")
    return isinstance(delta, dict) and bool(delta.get("content"))


async def post_json(session: aiohttp.ClientSession, url: str, body: str) -> Answer:
    try:
        async with session.post(url, data=body, headers=HEADERS) as response:
            payload = await response.read()
            whole = response.status == 200 and payload.startswith(b"{")
            return Answer(response.status, response.headers.get(PROVIDER_HEADER), whole=whole)
    except (aiohttp.ClientError, TimeoutError) as exc:
        return Answer(0, error=f"{type(exc).__name__}: {exc}")


async def post_stream(
    session: aiohttp.ClientSession,
    url: str,
    body: str,
    *,
    on_first_event: Callable[[], None] | None = None,
    cancel_after_first: bool = False,
    cancel_before_s: float | None = None,
) -> Answer:
    """Stream a completion; `on_first_event` is called when its first data event arrives.
    With `cancel_before_s`, the call is given up (the connection closed) when the response's
    headers have not come within that many seconds; once they have, it is read as usual."""
    headers_due = asyncio.timeout(cancel_before_s)
    try:
        async with headers_due:
            async with session.post(url, data=body, headers=HEADERS) as response:
                headers_due.reschedule(None)
                return await _read_stream(response, on_first_event, cancel_after_first)
    except TimeoutError as exc:
        if headers_due.expired():
            return Answer(0, cancelled=True)
        return Answer(0, error=f"{type(exc).__name__}: {exc}")
    except aiohttp.ClientError as exc:
        return Answer(0, error=f"{type(exc).__name__}: {exc}")


async def _read_stream(
    response: aiohttp.ClientResponse,
    on_first_event: Callable[[], None] | None,
    cancel_after_first: bool,
) -> Answer:
    provider = response.headers.get(PROVIDER_HEADER)
    if response.status != 200:
        await response.read()
        return Answer(response.status, provider)
    first = True
    events = 0
    async for line in response.content:
        if not line.startswith(_DATA):
            continue
        if line.rstrip() == _DONE:
            return Answer(200, provider, whole=True, events=events)
        events += has_content(line[len(_DATA) :])
        if first:
            first = False
            if on_first_event is not None:
                on_first_event()
            if cancel_after_first:
                response.close()
                return Answer(200, provider, cancelled=True, events=events)
    return Answer(200, provider, error="stream ended without [DONE]", events=events)
