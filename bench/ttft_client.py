"""The time-to-first-token benchmark's client: one keep-alive socket, times read as bytes arrive.

A blocking socket and a few lines of HTTP/1.1 (no client library between the bytes and the
clock, and the same client for every target). `StreamWatch` follows one SSE answer (chunked, or
with a Content-Length as nginx sends a fixed one) and
notes, in seconds from the request, when the headers were complete, when the first content
token arrived (the first `"content":"x` with text, not the role chunk's empty content) and when
the answer ended.
"""

from __future__ import annotations

import re
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from payloads import CLIENT_KEY

_TOKEN = re.compile(rb'"content":\s*"[^"]')
_HEADERS_END = b"\r\n\r\n"
RECV_BYTES = 65536


class StreamError(Exception):
    """The answer was not a 200 stream; the message says what came instead."""


@dataclass(frozen=True, slots=True)
class Timing:
    """Seconds from sending the request to each moment of its answer."""

    headers_s: float
    first_token_s: float
    total_s: float


class StreamWatch:
    """Fed the raw bytes of one answer as they arrive (with the time they arrived)."""

    __slots__ = (
        "_pending",
        "_body",
        "_chunk_left",
        "_length",
        "status",
        "headers_s",
        "token_s",
        "total_s",
    )

    def __init__(self) -> None:
        self._pending = b""  # bytes not yet parsed (headers, or chunk framing)
        self._body = b""  # the decoded body so far
        self._chunk_left: int | None = None  # data bytes left in the current chunk
        self._length: int | None = None  # the Content-Length of an answer that is not chunked
        self.status: int | None = None
        self.headers_s: float | None = None
        self.token_s: float | None = None
        self.total_s: float | None = None

    @property
    def complete(self) -> bool:
        return self.total_s is not None

    @property
    def body(self) -> bytes:
        return self._body

    def feed(self, data: bytes, at_s: float) -> None:
        self._pending += data
        if self.headers_s is None:
            head, found, rest = self._pending.partition(_HEADERS_END)
            if not found:
                return
            self._read_head(head)
            self.headers_s, self._pending = at_s, rest
        before = len(self._body)
        if self._length is None:
            self._dechunk(at_s)
        else:
            self._body, self._pending = self._body + self._pending, b""
            if len(self._body) >= self._length:
                self.total_s = at_s
        if self.token_s is None and len(self._body) > before:
            if _TOKEN.search(self._body, max(0, before - 16)):
                self.token_s = at_s

    def timing(self) -> Timing:
        if self.headers_s is None or self.token_s is None or self.total_s is None:
            raise StreamError(f"the answer ended without a content token: {self._body[:500]!r}")
        return Timing(self.headers_s, self.token_s, self.total_s)

    def _read_head(self, head: bytes) -> None:
        status_line, *fields = head.decode("latin-1").split("\r\n")
        parts = status_line.split(" ", 2)
        self.status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
        names = {f.partition(":")[0].strip().lower(): f.partition(":")[2].strip() for f in fields}
        chunked = names.get("transfer-encoding", "").lower() == "chunked"
        length = names.get("content-length", "")
        if self.status != 200 or not (chunked or length.isdigit()):
            raise StreamError(f"expected a 200 stream, got: {head[:500]!r}")
        self._length = None if chunked else int(length)

    def _dechunk(self, at_s: float) -> None:
        while True:
            if self._chunk_left is None:
                line, found, rest = self._pending.partition(b"\r\n")
                if not found:
                    return
                size = int(line.split(b";")[0], 16)
                if size == 0:
                    if not rest.startswith(b"\r\n"):  # no trailers are sent; wait for the end
                        return
                    self._pending, self.total_s = rest[2:], at_s
                    return
                self._chunk_left, self._pending = size, rest
            take = self._pending[: self._chunk_left]
            self._body += take
            self._chunk_left -= len(take)
            self._pending = self._pending[len(take) :]
            if self._chunk_left:
                return
            if len(self._pending) < 2:
                self._chunk_left = 0  # the chunk's CRLF is still to come
                return
            self._pending, self._chunk_left = self._pending[2:], None


def request_bytes(url: str, body: str) -> bytes:
    """The raw POST of `body` (JSON) to `url`, keep-alive, with the benchmark's client key."""
    parts = urlsplit(url)
    data = body.encode()
    head = (
        f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        f"Content-Type: application/json\r\nAuthorization: Bearer {CLIENT_KEY}\r\n"
        f"Content-Length: {len(data)}\r\n\r\n"
    )
    return head.encode() + data


class Connection:
    """One keep-alive connection to a target; `timed` sends a request and times its answer."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self._sock = socket.create_connection((parts.hostname, parts.port), timeout=30)
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def timed(self, request: bytes) -> Timing:
        watch = StreamWatch()
        sock = self._sock
        start = time.perf_counter()
        sock.sendall(request)
        while not watch.complete:
            data = sock.recv(RECV_BYTES)
            at_s = time.perf_counter() - start
            if not data:
                raise StreamError("the connection closed before the answer ended")
            watch.feed(data, at_s)
        return watch.timing()

    def close(self) -> None:
        self._sock.close()
