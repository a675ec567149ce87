"""Reading `GET /api/events` the way a dashboard does: one long response, parsed event by event."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson

from tests.support.proxy import CLIENT_KEY

READ_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Event:
    """One server-sent event; a comment (`: heartbeat`) has `name` "comment" and no data."""

    name: str
    data: Any
    id: int | None
    raw: bytes


def parse_event(frame: bytes) -> Event:
    fields: dict[str, str] = {}
    comments: list[str] = []
    for line in frame.rstrip(b"\n").decode().split("\n"):
        if line.startswith(":"):
            comments.append(line[1:].strip())
        elif line:
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")
    if not fields:
        return Event("comment", " ".join(comments), None, frame)
    data = orjson.loads(fields["data"]) if "data" in fields else None
    event_id = int(fields["id"]) if "id" in fields else None
    return Event(fields.get("event", "message"), data, event_id, frame)


class EventStream:
    """An open `/api/events` response; `next` reads one event, `raw` keeps every byte read."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.response = response
        self.raw = bytearray()
        self.hello: Event | None = None

    async def next(self, timeout: float = READ_TIMEOUT_S) -> Event:
        async with asyncio.timeout(timeout):
            frame = await self.response.content.readuntil(b"\n\n")
        if not frame.endswith(b"\n\n"):
            raise EOFError(f"the stream ended: {frame!r}")
        self.raw += frame
        return parse_event(frame)

    async def until(
        self, wanted: Callable[[Event], bool], timeout: float = READ_TIMEOUT_S
    ) -> tuple[Event, list[Event]]:
        """The first event `wanted` accepts, and the events read before it."""
        before: list[Event] = []
        async with asyncio.timeout(timeout):
            while not wanted(event := await self.next()):
                before.append(event)
        return event, before

    async def rest(self, timeout: float = READ_TIMEOUT_S) -> bytes:
        """Everything left until the server ends the stream."""
        async with asyncio.timeout(timeout):
            rest = await self.response.content.read()
        self.raw += rest
        return rest


@asynccontextmanager
async def event_stream(
    http: aiohttp.ClientSession, base_url: str, query: str = "", *, key: str = CLIENT_KEY
) -> AsyncIterator[EventStream]:
    """`GET /api/events` opened and its `hello` read; closed on leaving."""
    headers = {"Authorization": f"Bearer {key}"}
    async with http.get(f"{base_url}/api/events{query}", headers=headers) as response:
        assert response.status == 200, await response.text()
        assert response.content_type == "text/event-stream"
        stream = EventStream(response)
        stream.hello = await stream.next()
        assert stream.hello.name == "hello", stream.hello
        yield stream
