"""An incremental server-sent-events parser for upstream streams.

Accepts LF, CRLF and CR line endings, `data:` with or without a space, comment lines, multi-line
data, events split across reads, and a final event with no blank line after it. Only `data`
matters to an OpenAI stream; other fields are ignored.
"""

from __future__ import annotations

DONE = b"[DONE]"


class SSEParser:
    """Feed raw bytes in; get the data payloads of completed events out."""

    __slots__ = ("_buffer", "_data")

    def __init__(self) -> None:
        self._buffer = b""
        self._data: list[bytes] = []

    def feed(self, chunk: bytes) -> list[bytes]:
        buffer = self._buffer + chunk if self._buffer else chunk
        tail = b""
        if b"\r" in buffer:
            if buffer.endswith(b"\r"):
                buffer, tail = buffer[:-1], b"\r"
            buffer = buffer.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        lines = buffer.split(b"\n")
        self._buffer = lines.pop() + tail
        events: list[bytes] = []
        for line in lines:
            self._take_line(line, events)
        return events

    def close(self) -> list[bytes]:
        """End of stream: whatever is pending counts as a final event."""
        events: list[bytes] = []
        rest, self._buffer = self._buffer.rstrip(b"\r"), b""
        if rest:
            self._take_line(rest, events)
        self._take_line(b"", events)
        return events

    def _take_line(self, line: bytes, events: list[bytes]) -> None:
        if not line:
            if self._data:
                events.append(self._data[0] if len(self._data) == 1 else b"\n".join(self._data))
                self._data = []
            return
        if line[0] == 0x3A:  # ':' starts a comment (keep-alives)
            return
        field, colon, value = line.partition(b":")
        if field != b"data":
            return
        if not colon:
            value = b""
        elif value[:1] == b" ":
            value = value[1:]
        self._data.append(value)
