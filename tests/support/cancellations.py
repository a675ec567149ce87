"""Clients that leave: streams through the proxy, each cancelled by its client at a point drawn
from a seeded random plan, by a raw HTTP/1.1 client or (for a share of them) the `openai` SDK.

Each point is reached by construction, not by timing, so a run is the same on a slow machine:
- before the upstream's headers: the upstream takes minutes to answer; the client leaves once
  the upstream has received its request (the simulator counts it);
- before the first content event: the upstream sends its headers, then nothing for minutes;
- at the commit point: the client leaves on the proxy's headers (they leave with the first
  events), or after the first event;
- mid-stream: the client reads a few events of a stream far longer than it waits;
- while queued: the chain's only entry is exhausted (queue mode on, its clock never moves);
  the client leaves once its request is in the queue.
The points that wait for the proxy (before the headers, the first event, and while queued) run
in batches: the batch's requests are sent, the test waits until the simulator or the queue
holds them all, then cancels them in a seeded random order.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import openai
import orjson

from chain429.tasks import create_task
from tests.support.polling import eventually
from tests.support.proxy import CLIENT_KEY

MESSAGES = [{"role": "user", "content": "Say something long."}]
#: Events a mid-stream client reads before it leaves (at most); the streams are far longer.
MOST_EVENTS = 8


class Point(StrEnum):
    """Where the client leaves; each is served by a chain of its own name."""

    BEFORE_HEADERS = "before-headers"
    BEFORE_CONTENT = "before-content"
    AT_COMMIT = "at-commit"
    MID_STREAM = "mid-stream"
    QUEUED = "queued"


@dataclass(frozen=True)
class Cancel:
    """One stream and where its client leaves; `events`: how many it reads first (at the
    commit point 0 or 1, mid-stream 2 to `MOST_EVENTS`); `sdk`: sent by the openai SDK, else
    by a raw HTTP/1.1 client that leaves with a FIN, or with a RST when `abort`."""

    point: Point
    events: int
    sdk: bool
    abort: bool = False


def plan(seed: int, count: int, sdk_share: float) -> list[Cancel]:
    """`count` cancellations, each at a point drawn with `seed`."""
    rng = random.Random(seed)
    points = list(Point)
    out = []
    for _ in range(count):
        point = rng.choice(points)
        if point is Point.AT_COMMIT:
            events = rng.randint(0, 1)
        elif point is Point.MID_STREAM:
            events = rng.randint(2, MOST_EVENTS)
        else:
            events = 0
        out.append(Cancel(point, events, rng.random() < sdk_share, rng.random() < 0.5))
    return out


@dataclass
class Clients:
    """The two clients that call the proxy: a raw one (asyncio streams: the cheapest client
    that speaks HTTP/1.1, so the proxy does most of the work of a run) and the openai SDK."""

    host: str
    port: int
    sdk: openai.AsyncOpenAI

    async def stream(self, cancel: Cancel) -> None:
        """Send one stream to the chain of `cancel.point`; leave after `cancel.events` events
        (a waiting point's request waits until it is cancelled)."""
        if cancel.sdk:
            await self._sdk_stream(cancel)
        else:
            await self._raw_stream(cancel)

    async def _raw_stream(self, cancel: Cancel) -> None:
        reader, writer = await asyncio.open_connection(self.host, self.port)
        try:
            writer.write(_request(self.host, self.port, cancel.point))
            head = await reader.readuntil(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200 "), f"{cancel}: {head!r}"
            assert b"\r\ntransfer-encoding: chunked\r\n" in head.lower(), f"{cancel}: {head!r}"
            body = b""
            while body.count(b"\n\n") < cancel.events:
                size = int(await reader.readuntil(b"\r\n"), 16)
                assert size, f"{cancel}: the stream ended after {body!r}"
                body += (await reader.readexactly(size + 2))[:-2]
            assert all(e.startswith(b"data: {") for e in body.split(b"\n\n")[:-1]), body
        finally:  # the client leaves
            if cancel.abort:
                writer.transport.abort()
            else:
                writer.close()

    async def _sdk_stream(self, cancel: Cancel) -> None:
        stream = await self.sdk.chat.completions.create(
            model=cancel.point.value, messages=MESSAGES, stream=True
        )  # type: ignore[call-overload]  # the messages' TypedDicts, given as plain dicts
        try:
            chunks = aiter(stream)
            for _ in range(cancel.events):
                chunk = await anext(chunks)
                assert chunk.choices, f"{cancel}: {chunk}"
        finally:
            await stream.close()


def _request(host: str, port: int, point: Point) -> bytes:
    body = orjson.dumps({"model": point.value, "messages": MESSAGES, "stream": True})
    head = (
        f"POST /v1/chat/completions HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Authorization: Bearer {CLIENT_KEY}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def run_free(clients: Clients, cancels: Sequence[Cancel], concurrency: int) -> None:
    """The points where the client leaves by itself, `concurrency` streams at a time."""
    pending = list(reversed(cancels))

    async def worker() -> None:
        while pending:
            await clients.stream(pending.pop())

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def run_batches(
    clients: Clients,
    cancels: Sequence[Cancel],
    batch: int,
    held: Callable[[], int],
    rng: random.Random,
    ready: Callable[[], bool] = lambda: True,
) -> None:
    """The waiting points: send `batch` streams, wait until `held()` (the simulator's requests,
    or the queue's depth) has grown by as many, then cancel them in a random order. Each batch
    starts once `ready()` (the queue is empty again: the proxy saw the last batch leave)."""
    point = cancels[0].point if cancels else None
    for start in range(0, len(cancels), batch):
        group = cancels[start : start + batch]
        await eventually(ready, timeout=10, what=f"the {point} requests before gone")
        expected = held() + len(group)
        tasks = [create_task(clients.stream(c), name=f"client {c.point}") for c in group]
        await eventually(
            lambda expected=expected, tasks=tasks: held() >= expected or _failed(tasks),
            timeout=30,
            what=f"{len(group)} {point} requests held",
        )
        for task in _failures(tasks):
            raise AssertionError(f"a {point} client failed") from task.exception()
        rng.shuffle(tasks)
        for task in tasks:
            task.cancel()
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        unexpected = [o for o in outcomes if not isinstance(o, asyncio.CancelledError)]
        assert not unexpected, f"{point} clients ended otherwise than cancelled: {unexpected[:3]}"


def _failures(tasks: Sequence[asyncio.Task[Any]]) -> list[asyncio.Task[Any]]:
    return [t for t in tasks if t.done() and not t.cancelled() and t.exception() is not None]


def _failed(tasks: Sequence[asyncio.Task[Any]]) -> bool:
    return bool(_failures(tasks)) or any(t.done() for t in tasks)
