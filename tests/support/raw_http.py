"""HTTP/1.1 spoken by hand over a socket, for clients no library would be: a head sent a byte
at a time, a body that never ends, a reader that stops reading."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass

import orjson
from multidict import CIMultiDict

from chain429.server import RunningServer
from tests.support.proxy import CLIENT_KEY


def request_head(
    server: RunningServer,
    path: str,
    *,
    content_length: int,
    method: str = "POST",
    key: str = CLIENT_KEY,
) -> bytes:
    """The head of a JSON request promising `content_length` body bytes."""
    lines = [
        f"{method} {path} HTTP/1.1",
        f"Host: {server.host}:{server.port}",
        f"Authorization: Bearer {key}",
        "Content-Type: application/json",
        f"Content-Length: {content_length}",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@dataclass(frozen=True)
class RawAnswer:
    status: int
    headers: Mapping[str, str]  # case-insensitive
    body: bytes

    @property
    def error(self) -> dict[str, object]:
        error: dict[str, object] = orjson.loads(self.body)["error"]
        assert set(error) == {"message", "type", "param", "code"}
        return error


async def read_answer(reader: asyncio.StreamReader) -> RawAnswer:
    """One answer read whole: a body of a Content-Length, or chunked."""
    status_line = await reader.readline()
    status = int(status_line.split()[1])
    headers: CIMultiDict[str] = CIMultiDict()
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip()] = value.strip()
    if "Content-Length" in headers:
        body = await reader.readexactly(int(headers["Content-Length"]))
    else:
        body = await read_chunked(reader)
    return RawAnswer(status, headers, body)


async def read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts = []
    while size := int((await reader.readline()).split(b";")[0], 16):
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)
    await reader.readexactly(2)
    return b"".join(parts)


async def closed_within(reader: asyncio.StreamReader, seconds: float) -> bool:
    """Whether the server closes the connection within `seconds` (sending nothing more)."""
    try:
        async with asyncio.timeout(seconds):
            return await reader.read(1) == b""
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True
