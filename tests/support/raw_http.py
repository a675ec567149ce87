"""HTTP/1.1 spoken by hand over a socket, for clients no library would be: a head sent a byte
at a time, a body that never ends, a reader that stops reading."""

from __future__ import annotations

import asyncio
import socket
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
    close: bool = False,
) -> bytes:
    """The head of a JSON request promising `content_length` body bytes; with `close`, the
    server closes the connection after its answer."""
    lines = [
        f"{method} {path} HTTP/1.1",
        f"Host: {server.host}:{server.port}",
        f"Authorization: Bearer {key}",
        "Content-Type: application/json",
        f"Content-Length: {content_length}",
        *(["Connection: close"] if close else []),
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


def parse_answer(raw: bytes) -> RawAnswer:
    """An answer read whole as bytes (up to the server closing the connection)."""
    head, _, rest = raw.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers: CIMultiDict[str] = CIMultiDict()
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip()] = value.strip()
    if "Content-Length" in headers:
        body = rest[: int(headers["Content-Length"])]
    else:
        body = unchunked(rest)
    return RawAnswer(int(status_line.split()[1]), headers, body)


def unchunked(data: bytes) -> bytes:
    """A chunked body's bytes, read to its last (empty) chunk."""
    parts = []
    position = 0
    while True:
        line_end = data.index(b"\r\n", position)
        size = int(data[position:line_end].split(b";")[0], 16)
        if size == 0:
            return b"".join(parts)
        start = line_end + 2
        parts.append(data[start : start + size])
        position = start + size + 2


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


class SlowReader:
    """A client that sends its request, then reads nothing until told to: its socket's receive
    buffer is small (SO_RCVBUF), so the proxy's writes back up at once."""

    RECEIVE_BUFFER = 16 * 1024  # the kernel doubles it

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock

    @classmethod
    async def request(cls, server: RunningServer, path: str, body: bytes) -> SlowReader:
        """Send `body` to `path` (with `Connection: close`: the answer ends with the
        connection)."""
        loop = asyncio.get_running_loop()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, cls.RECEIVE_BUFFER)
        sock.setblocking(False)
        await loop.sock_connect(sock, (server.host, server.port))
        head = request_head(server, path, content_length=len(body), close=True)
        await loop.sock_sendall(sock, head + body)
        return cls(sock)

    async def read_to_end(self) -> bytes:
        """Everything until the server closes the connection (or drops it)."""
        loop = asyncio.get_running_loop()
        received = bytearray()
        try:
            while data := await loop.sock_recv(self._sock, 1 << 20):
                received += data
        except ConnectionResetError:
            pass
        return bytes(received)

    def close(self) -> None:
        self._sock.close()
