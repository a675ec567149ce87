"""One pipelined connection to one Redis: the calls written to it run in the order written,
each answered when its reply comes back, while later calls are already on their way.

Nothing waits between a batch and the next: `write` sends at once, and the replies, which
Redis gives in the order of the commands, resolve the calls in that order (first in, first
out). So a burst of admissions costs one round trip each, not one behind the batch before
it, and order on the connection is the order of the writes: a report written before an
admission is applied before it.

A script runs by its SHA-1 (EVALSHA, the scripts are loaded when the connection opens); one
Redis no longer knows (restarted behind a proxy, or flushed) runs again with its text (EVAL,
which loads it). A script that fails is logged and answered None. A connection that closes,
or a call left unanswered for `timeout_s`, ends the link: the calls it held are answered
None and `on_lost` is told (the store decides what next).
"""

from __future__ import annotations

import asyncio
import hashlib
import ssl
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, NamedTuple, Protocol, cast

import structlog

from chain429.errors import Chain429Error
from chain429.state_store.names import SlotKeys
from chain429.state_store.resp import (
    Arg,
    RedisAddress,
    Reply,
    ReplyError,
    ReplyParser,
    ScriptCall,
    command,
)

log = structlog.get_logger("chain429.state_store")

#: The call that runs no script: PING, answered once every call before it has run.
PING: Final = "ping"
NO_KEYS: Final = SlotKeys("", "", "")
_PING: Final = command("PING")


@dataclass(slots=True)
class Call:
    """A script to run with its keys and arguments, and who waits for its answer (if any)."""

    script: str
    keys: SlotKeys
    args: Sequence[Arg]
    answer: asyncio.Future[Reply] | None = None
    sent: float = 0.0

    def resolve(self, reply: Reply) -> None:
        if self.answer is not None and not self.answer.done():
            self.answer.set_result(reply)


class Link(Protocol):
    """What the store needs of a connection (`RedisLink`'s, or another transport's): run
    `calls` in the order written, answering each (None when it could not run), and tell the
    `on_lost` it was opened with when it ends by itself."""

    def write(self, calls: Sequence[Call]) -> None: ...

    def close(self) -> None: ...

    async def aclose(self) -> None:
        """`close`, and wait until its connections are closed."""
        ...


class LinkError(Chain429Error):
    """Redis refused the connection's greeting (a wrong password, a missing database), hung
    up during it, or sent what is not RESP."""


#: What ends an attempt to reach Redis: it is away (OSError: refused, timed out, TLS failed),
#: or refused us.
OUTAGE: Final = (OSError, LinkError)


class _Script(NamedTuple):
    sha: str
    text: bytes


def _unheard(exc: BaseException) -> None:
    """A link's `on_lost` while it greets: `open` raises instead."""


class RedisLink(asyncio.Protocol):
    """One connection to one Redis; see the module docstring. Made by `open`."""

    def __init__(
        self,
        scripts: Mapping[str, _Script],
        timeout_s: float,
        on_lost: Callable[[BaseException], None],
    ) -> None:
        self._scripts = scripts
        self._timeout_s = timeout_s
        self._on_lost = on_lost
        self._parser = ReplyParser()
        self._encoders: dict[tuple[str, SlotKeys], ScriptCall] = {}
        self._in_flight: deque[Call] = deque()
        self._transport: asyncio.Transport | None = None
        self._watch: asyncio.TimerHandle | None = None
        self._loop = asyncio.get_running_loop()
        self._closed = False

    @classmethod
    async def open(
        cls,
        address: RedisAddress,
        scripts: Mapping[str, str],
        timeout_s: float,
        on_lost: Callable[[BaseException], None],
    ) -> RedisLink:
        """Connect, authenticate, select the database and load `scripts` (name -> Lua text)
        within `timeout_s`; OSError (a refused connection, TimeoutError) or LinkError when that
        fails."""
        loaded = {
            name: _Script(hashlib.sha1(text.encode()).hexdigest(), text.encode())
            for name, text in scripts.items()
        }
        loop = asyncio.get_running_loop()
        context = ssl.create_default_context() if address.tls else None
        async with asyncio.timeout(timeout_s):
            _, link = await loop.create_connection(
                lambda: cls(loaded, timeout_s, _unheard),
                address.host,
                address.port,
                ssl=context,
            )
            try:
                await link._greet(address)
            except BaseException:
                link.close()
                raise
        link._on_lost = on_lost
        return link

    def write(self, calls: Sequence[Call]) -> None:
        """Send `calls` now, in order; each is answered when its reply comes back."""
        transport = self._transport
        if transport is None or self._closed:
            for call in calls:
                call.resolve(None)
            return
        now = self._loop.time()
        encoders = self._encoders
        out = []
        for call in calls:
            call.sent = now
            if call.script == PING:
                out.append(_PING)
                continue
            encoder = encoders.get((call.script, call.keys))
            if encoder is None:
                sha = self._scripts[call.script].sha
                encoder = encoders[(call.script, call.keys)] = ScriptCall(sha, call.keys)
            out.append(encoder.encode(call.args))
        self._in_flight.extend(calls)
        transport.write(b"".join(out))
        if self._watch is None:
            self._watch = self._loop.call_at(now + self._timeout_s, self._check)

    def close(self) -> None:
        """End the connection; the calls it held are answered None, `on_lost` is not told."""
        self._closed = True
        if self._transport is not None:
            self._transport.abort()
        self._end()

    async def aclose(self) -> None:
        self.close()  # aborted at once: nothing to wait for

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's are not subclasses

    def data_received(self, data: bytes) -> None:
        in_flight = self._in_flight
        try:
            replies = self._parser.feed(data)
        except ValueError as exc:  # not Redis, or out of step: nothing more can be read
            self.close()
            self._on_lost(LinkError(str(exc)))
            return
        for reply in replies:
            call = in_flight.popleft()
            if isinstance(reply, ReplyError) and call.script:
                if reply.code == "NOSCRIPT" and call.script in self._scripts:
                    self._evaluate(call)
                    continue
                log.error("state store script failed", script=call.script, error=reply.message)
                reply = None
            call.resolve(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        self._end()
        if not self._closed:
            self._closed = True
            self._on_lost(exc or ConnectionResetError("Redis closed the connection"))

    # inside

    async def _greet(self, address: RedisAddress) -> None:
        """Authenticate, select the database and load the scripts: LinkError when Redis
        refuses or hangs up."""
        assert self._transport is not None
        greeting = address.greeting()
        greeting += [command("SCRIPT", "LOAD", script.text) for script in self._scripts.values()]
        answers = [self._loop.create_future() for _ in greeting]
        now = self._loop.time()
        self._in_flight.extend(Call("", NO_KEYS, (), answer, now) for answer in answers)
        self._transport.write(b"".join(greeting))
        for reply in await asyncio.gather(*answers):
            if isinstance(reply, ReplyError):
                raise LinkError(reply.message)
            if reply is None:
                raise LinkError("Redis closed the connection")

    def _evaluate(self, call: Call) -> None:
        """Run `call` again by the text of its script (Redis lost the one it had)."""
        assert self._transport is not None
        script = self._scripts[call.script]
        call.sent = self._loop.time()
        self._in_flight.append(call)
        keys = call.keys
        self._transport.write(command("EVAL", script.text, len(keys), *keys, *call.args))

    def _check(self) -> None:
        """End the link when its oldest call has waited `timeout_s` (Redis is unreachable or
        stuck); otherwise look again when the oldest one would have."""
        self._watch = None
        if not self._in_flight or self._closed:
            return
        due = self._in_flight[0].sent + self._timeout_s
        if self._loop.time() < due:
            self._watch = self._loop.call_at(due, self._check)
            return
        lost = TimeoutError(f"Redis did not answer within {self._timeout_s:g} s")
        self.close()
        self._on_lost(lost)

    def _end(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None
        calls, self._in_flight = self._in_flight, deque()
        for call in calls:
            call.resolve(None)
