"""An incremental server-sent-events parser for upstream streams.

Accepts LF, CRLF and CR line endings, `data:` with or without a space, comment lines, multi-line
data, events split across reads, and a final event with no blank line after it. Only `data`
matters to an OpenAI stream; other fields are ignored.

`SSEParser.whole` only cuts the bytes at event boundaries, so that a relay can pass whole events
on as they came; `feed` also parses what it cut.
"""

from __future__ import annotations

from collections.abc import Iterator

from chain429.errors import UpstreamProtocolError

DONE = b"[DONE]"
#: The blank line that ends an event, once line endings are LF.
END = b"\n\n"
_CR = ord("\r")
#: The longest event held while it is incomplete, when the caller gives no limit (the default of
#: `settings.maxResponseBytes`).
MAX_EVENT_BYTES = 64 * 1024 * 1024


class SSEParser:
    """Feed raw bytes in; get the data payloads (or the bytes) of completed events out.

    An event still to be completed is held up to `limit` bytes (`settings.maxResponseBytes`):
    a longer one, or a line that never ends, is a broken stream (`UpstreamProtocolError`), not
    a buffer without bound. What is held grows by each read alone (a bytearray, searched only
    where the read may have completed it), so an event of many reads costs in proportion to
    its size, not to its size times its reads."""

    __slots__ = ("_limit", "_pending")

    def __init__(self, limit: int = MAX_EVENT_BYTES) -> None:
        self._limit = limit
        self._pending = bytearray()  # the start of an event still to be completed, LF endings

    def whole(self, chunk: bytes) -> bytes:
        """The events that `chunk` completes, as they came but with LF line endings (empty
        when it completes none); the start of the next event waits for the next chunk."""
        if self._pending:
            return self._joined(chunk)
        # Most reads have no CR: they skip `_lf`'s call (not `in`: see `events`).
        buffer, tail = (chunk, b"") if chunk.find(b"\r") < 0 else _lf(chunk)
        cut = buffer.rfind(END) + len(END)
        if cut < len(END):
            self._hold(buffer, tail)
            return b""
        if cut < len(buffer) or tail:
            self._hold(buffer[cut:], tail)
            return buffer[:cut]
        return buffer

    def _joined(self, chunk: bytes) -> bytes:
        """`whole` when the start of an event is held: the read is added to it, and only the
        join and the read are searched for the end of an event."""
        pending = self._pending
        if pending[-1] == _CR:  # a CR held back, whose LF may start this read
            del pending[-1]
            chunk = b"\r" + chunk
        start = max(len(pending) - 1, 0)
        body, tail = _lf(chunk)
        pending += body
        cut = pending.rfind(END, start) + len(END)
        if cut < len(END):
            pending += tail
            self._check(len(pending))
            return b""
        block = bytes(pending[:cut])
        del pending[:cut]
        pending += tail
        return block

    def _hold(self, start: bytes, tail: bytes) -> None:
        self._check(len(start))
        self._pending += start
        self._pending += tail

    def _check(self, size: int) -> None:
        if size > self._limit:
            raise UpstreamProtocolError(
                f"an event longer than {self._limit} bytes (settings.maxResponseBytes)"
            )

    def rest(self) -> bytes:
        """End of stream: whatever is pending, as a final whole event."""
        rest = bytes(self._pending).rstrip(b"\r")
        self._pending.clear()
        return rest + END if rest else b""

    def feed(self, chunk: bytes) -> list[bytes]:
        return event_data(self.whole(chunk))

    def close(self) -> list[bytes]:
        """End of stream: whatever is pending counts as a final event."""
        return event_data(self.rest())


def _lf(chunk: bytes) -> tuple[bytes, bytes]:
    """`chunk` with LF line endings, and a CR it ends with held back (the CR of a CRLF whose
    LF is still to come)."""
    if chunk.find(b"\r") < 0:  # not `in`: see `events` (this runs once per read)
        return chunk, b""
    tail = b""
    if chunk.endswith(b"\r"):
        chunk, tail = chunk[:-1], b"\r"
    return chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n"), tail


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
