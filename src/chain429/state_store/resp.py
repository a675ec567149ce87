"""Redis's wire protocol (RESP2), as much as the limit state needs, without I/O: where a URL
points (`RedisAddress`), a command in bytes (`command`), and the replies read from a stream of
bytes (`ReplyParser`).

A reply is bytes (a simple or bulk string), an int, None (a nil), a list of replies (an
array), or a `ReplyError` (an error Redis answered: the command failed, the connection is
fine).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeAlias

from chain429.config.cluster_url import DEFAULT_PORT
from chain429.config.redis_url import parse_redis_url

Reply: TypeAlias = "bytes | int | None | list[Reply] | ReplyError"
Arg: TypeAlias = str | int | float


@dataclass(frozen=True, slots=True)
class ReplyError:
    """An error reply: `message` starts with its code (`ERR`, `NOSCRIPT`, `WRONGPASS`...)."""

    message: str

    @property
    def code(self) -> str:
        return self.message.partition(" ")[0]


@dataclass(frozen=True, slots=True)
class RedisAddress:
    """What a `redis://` or `rediss://` (TLS) URL names:
    `redis[s]://[[username]:password@]host[:port][/db]`."""

    host: str
    port: int = DEFAULT_PORT
    tls: bool = False
    username: str | None = None
    password: str | None = None
    db: int = 0

    @classmethod
    def parse(cls, url: str) -> RedisAddress:
        """What `url` names; a ValueError says what is wrong with it (`config.redis_url`)."""
        return cls(*parse_redis_url(url))

    def greeting(self) -> list[bytes]:
        """The commands a new connection starts with: AUTH when the URL has a password, and
        SELECT when it names a database other than 0."""
        commands = []
        if self.password is not None:
            who = (self.username,) if self.username else ()
            commands.append(command("AUTH", *who, self.password))
        if self.db:
            commands.append(command("SELECT", self.db))
        return commands


def command(*args: Arg | bytes) -> bytes:
    """`args` as one RESP command (an array of bulk strings)."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        parts.append(b"$%d\r\n%b\r\n" % (len(data), data))
    return b"".join(parts)


class ScriptCall:
    """EVALSHA of one script on one set of keys: the command's head is encoded once, only the
    arguments each time (`encode`)."""

    __slots__ = ("_head", "_parts")

    def __init__(self, sha: str, keys: Sequence[str]) -> None:
        head = ("EVALSHA", sha, str(len(keys)), *keys)
        if not all(part.isascii() for part in head):
            raise ValueError("script keys are ASCII (names percent-encodes them)")
        self._head = "".join(f"${len(part)}\r\n{part}\r\n" for part in head)
        self._parts = head

    def encode(self, args: Sequence[Arg]) -> bytes:
        out = [f"*{len(self._parts) + len(args)}\r\n{self._head}"]
        for arg in args:
            text = arg if type(arg) is str else repr(arg)  # int and float: repr is str
            out.append(f"${len(text)}\r\n{text}\r\n")
        line = "".join(out)
        if line.isascii():  # then characters are bytes, and the lengths are right
            return line.encode()
        return command(*self._parts, *args)


class ReplyParser:
    """Turns the bytes a connection receives into whole replies, in order."""

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, data: bytes) -> list[Reply]:
        """The replies `data` completes (bytes of a reply not yet whole are kept)."""
        buffer = self._buffer + data if self._buffer else data
        replies: list[Reply] = []
        position = 0
        while position < len(buffer):
            read = _read(buffer, position)
            if read is None:
                break
            reply, position = read
            replies.append(reply)
        self._buffer = buffer[position:]
        return replies


def _read(buffer: bytes, position: int) -> tuple[Reply, int] | None:
    """The reply starting at `position` and where the next one starts; None when the buffer
    ends inside it."""
    end = buffer.find(b"\r\n", position)
    if end < 0:
        return None
    kind, line = buffer[position], buffer[position + 1 : end]
    after = end + 2
    if kind == 0x24:  # $ bulk string
        size = int(line)
        if size < 0:
            return None, after
        if len(buffer) < after + size + 2:
            return None
        return buffer[after : after + size], after + size + 2
    if kind == 0x3A:  # : integer
        return int(line), after
    if kind == 0x2A:  # * array
        count = int(line)
        if count < 0:
            return None, after
        items: list[Reply] = []
        for _ in range(count):
            read = _read(buffer, after)
            if read is None:
                return None
            item, after = read
            items.append(item)
        return items, after
    if kind == 0x2B:  # + simple string
        return line, after
    if kind == 0x2D:  # - error
        return ReplyError(line.decode(errors="replace")), after
    raise ValueError(f"not a RESP2 reply: {buffer[position : position + 16]!r}")
