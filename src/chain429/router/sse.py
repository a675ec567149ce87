"""An incremental server-sent-events parser for upstream streams.

Accepts LF, CRLF and CR line endings, `data:` with or without a space, comment lines, multi-line
data, events split across reads, and a final event with no blank line after it. Only `data`
matters to an OpenAI stream; other fields are ignored.

`SSEParser.whole` only cuts the bytes at event boundaries, so that a relay can pass whole events
on as they came; `feed` also parses what it cut.
"""

from __future__ import annotations

from collections.abc import Iterator

DONE = b"[DONE]"
#: The blank line that ends an event, once line endings are LF.
END = b"\n\n"


class SSEParser:
    """Feed raw bytes in; get the data payloads (or the bytes) of completed events out."""

    __slots__ = ("_pending",)

    def __init__(self) -> None:
        self._pending = b""  # the start of an event still to be completed, line endings LF

    def whole(self, chunk: bytes) -> bytes:
        """The events that `chunk` completes, as they came but with LF line endings (empty
        when it completes none); the start of the next event waits for the next chunk."""
        buffer = self._pending + chunk if self._pending else chunk
        tail = b""
        if buffer.find(b"\r") >= 0:  # not `in`: see `events` (this runs once per read)
            if buffer.endswith(b"\r"):  # the CR of a CRLF whose LF is still to come
                buffer, tail = buffer[:-1], b"\r"
            buffer = buffer.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        cut = buffer.rfind(END) + len(END)
        if cut < len(END):
            self._pending = buffer + tail
            return b""
        self._pending = buffer[cut:] + tail
        return buffer[:cut]

    def rest(self) -> bytes:
        """End of stream: whatever is pending, as a final whole event."""
        rest, self._pending = self._pending.rstrip(b"\r"), b""
        return rest + END if rest else b""

    def feed(self, chunk: bytes) -> list[bytes]:
        return event_data(self.whole(chunk))

    def close(self) -> list[bytes]:
        """End of stream: whatever is pending counts as a final event."""
        return event_data(self.rest())


def event_data(block: bytes) -> list[bytes]:
    """The data of each event in `block` (whole events) that has any."""
    return [data for data, _ in events_in(block)]


def events_in(block: bytes) -> Iterator[tuple[bytes, int]]:
    """The data of each event in `block` (whole events, as `SSEParser.whole` gives them) that
    has any, with the offset just past the event."""
    start = 0
    while (end := block.find(END, start)) >= 0:
        data = data_of(block[start:end])
        start = end + len(END)
        if data is not None:
            yield data, start


def data_of(event: bytes) -> bytes | None:
    """The data of one event (its lines, without the blank line that ends it); None when it has
    no `data` field (a comment, a keep-alive, an `event:` line alone)."""
    if event.startswith(b"data: ") and b"\n" not in event:
        return event[6:]
    values: list[bytes] = []
    for line in event.split(b"\n"):
        field, colon, value = line.partition(b":")
        if field != b"data":  # a comment (`: ping`), a blank line, `event:`, `id:`, `retry:`
            continue
        if not colon:
            value = b""
        elif value[:1] == b" ":
            value = value[1:]
        values.append(value)
    return b"\n".join(values) if values else None
