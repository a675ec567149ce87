"""Read a server-sent event stream with named events (`event: delta`), one event at a time,
as the bytes arrive: for answers whose order matters more than their timing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson


async def named_events(response: aiohttp.ClientResponse) -> AsyncIterator[tuple[str, Any]]:
    """(event name, JSON data) for each event, yielded as soon as its blank line arrives."""
    buffer = b""
    async for chunk in response.content.iter_any():
        buffer += chunk
        while b"\n\n" in buffer:
            block, buffer = buffer.split(b"\n\n", 1)
            name, data = "message", b""
            for line in block.split(b"\n"):
                field, _, value = line.partition(b": ")
                if field == b"event":
                    name = value.decode()
                elif field == b"data":
                    data += value
            yield name, orjson.loads(data)
