"""One chat completion through the proxy, as the memory benchmarks' client makes it (aiohttp):
a JSON answer read whole, or a stream read event by event, optionally left after its first
event (a client that cancels)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import aiohttp

from payloads import CLIENT_KEY

HEADERS = {"Authorization": f"Bearer {CLIENT_KEY}", "Content-Type": "application/json"}
PROVIDER_HEADER = "X-429chain-Provider"
_DONE = b"data: [DONE]"


@dataclass(frozen=True, slots=True)
class Answer:
    """How one call ended: the status, the provider that served it, and whether it is whole
    (a JSON body, or a stream up to `[DONE]`) or was left on purpose (`cancelled`)."""

    status: int
    provider: str | None = None
    whole: bool = False
    cancelled: bool = False
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.status == 200 and (self.whole or self.cancelled)


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
) -> Answer:
    """Stream a completion; `on_first_event` is called when its first data event arrives."""
    try:
        async with session.post(url, data=body, headers=HEADERS) as response:
            provider = response.headers.get(PROVIDER_HEADER)
            if response.status != 200:
                await response.read()
                return Answer(response.status, provider)
            first = True
            async for line in response.content:
                if not line.startswith(b"data: "):
                    continue
                if line.rstrip() == _DONE:
                    return Answer(200, provider, whole=True)
                if first:
                    first = False
                    if on_first_event is not None:
                        on_first_event()
                    if cancel_after_first:
                        response.close()
                        return Answer(200, provider, cancelled=True)
            return Answer(200, provider, error="stream ended without [DONE]")
    except (aiohttp.ClientError, TimeoutError) as exc:
        return Answer(0, error=f"{type(exc).__name__}: {exc}")
