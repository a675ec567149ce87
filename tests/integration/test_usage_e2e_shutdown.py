"""SIGTERM under load: `429chain serve` stops taking connections, lets the requests in flight
finish (JSON and streams), flushes every usage record and exits 0. After a restart, every
request a client saw answered is in the database, with the status and stream flag it saw.
The same holds for Ctrl-C sent to the proxy's whole process group, as a terminal sends it.

The upstream holds its answers until the proxy is seen refusing new connections, so the signal
provably lands while requests are in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
from aiohttp import web

from chain429.server import RunningServer
from chain429.tasks import create_task
from tests.support.client import chat_body
from tests.support.polling import eventually
from tests.support.proxy import CLIENT_KEY, make_config, start_proxy
from tests.support.serve_process import ServeProcess, serving
from tests.support.upstream import Behaviour, gated, hang, ok, reply, sse
from tests.support.usage_db import query, request_log, stored_request_ids, usage_settings

SERVED_BEFORE = 10
IN_FLIGHT = 40
LATE = 5
AUTH = {"Authorization": f"Bearer {CLIENT_KEY}"}


@dataclass(frozen=True)
class Seen:
    """What one client got: an answer (status, request id, whole body) or nothing."""

    stream: bool
    status: int | None = None
    request_id: str | None = None
    body: bytes = b""


def held(gate: asyncio.Event) -> Behaviour:
    """JSON answers wait for `gate` before a byte; streams send two events, then wait."""
    stream = sse(gate=gate, gate_after=2)
    whole = gated(reply(), gate)

    async def behaviour(request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        return await (stream if body.get("stream") else whole)(request, body)

    return behaviour


async def send(session: aiohttp.ClientSession, url: str, *, stream: bool) -> Seen:
    try:
        async with session.post(
            f"{url}/v1/chat/completions", json=chat_body(stream=stream), headers=AUTH
        ) as response:
            return Seen(
                stream, response.status, response.headers["X-Request-Id"], await response.read()
            )
    except aiohttp.ClientError:
        return Seen(stream)


async def refusing(url: str) -> bool:
    host, port = url.removeprefix("http://").split(":")
    try:
        _, writer = await asyncio.open_connection(host, int(port))
    except ConnectionError:  # refused, or reset as the listening socket closed
        return True
    writer.close()
    with contextlib.suppress(ConnectionError):
        await writer.wait_closed()
    return False


@dataclass(frozen=True)
class Stop:
    """How the proxy is told to stop: `signum`, `times` over, to it or to its whole group."""

    signum: int
    times: int = 1
    group: bool = False

    def send(self, proxy: ServeProcess) -> None:
        if self.group:
            proxy.signal_group(self.signum)
        else:
            proxy.process.send_signal(self.signum)


async def load_then_stop(
    proxy: ServeProcess, upstream, gate: asyncio.Event, stop: Stop
) -> list[Seen]:
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        before = await asyncio.gather(
            *(send(session, proxy.url, stream=i % 2 == 0) for i in range(SERVED_BEFORE))
        )
        flying = [
            create_task(send(session, proxy.url, stream=i % 3 == 0), name=f"client-{i}")
            for i in range(IN_FLIGHT)
        ]
        await eventually(lambda: upstream.calls == SERVED_BEFORE + IN_FLIGHT, timeout=10)
        stop.send(proxy)
        await eventually(lambda: refusing(proxy.url), timeout=10)
        for _ in range(stop.times - 1):
            stop.send(proxy)
        async with aiohttp.ClientSession(timeout=timeout) as fresh:
            late = await asyncio.gather(
                *(send(fresh, proxy.url, stream=False) for _ in range(LATE))
            )
        gate.set()
        drained = await asyncio.gather(*flying)
    return [*before, *drained, *late]


@pytest.mark.parametrize(
    "stop",
    [Stop(signal.SIGTERM), Stop(signal.SIGTERM, times=2), Stop(signal.SIGINT, group=True)],
    ids=["one-sigterm", "impatient-second-sigterm", "ctrl-c-to-the-process-group"],
)
async def test_sigterm_under_load_keeps_every_answered_request(
    upstream_factory, tmp_path: Path, stop: Stop
):
    gate = asyncio.Event()
    upstream = await upstream_factory(*[ok()] * SERVED_BEFORE, held(gate))
    db = tmp_path / "u.db"
    config = make_config([("a", upstream.base_url)], settings=usage_settings(db))

    async with serving(config, tmp_path, name="first") as proxy:
        seen = await load_then_stop(proxy, upstream, gate, stop)
        assert await proxy.wait() == 0, proxy.output()
        assert "usage write abandoned" not in proxy.output(), "the last writes finished"

    answered = [s for s in seen if s.status is not None]
    assert len(answered) == SERVED_BEFORE + IN_FLIGHT, "the drain must finish requests in flight"
    assert all(s.status == 200 for s in answered)
    assert all(s.body.rstrip().endswith(b"data: [DONE]") for s in answered if s.stream)
    assert [s.status for s in seen[-LATE:]] == [None] * LATE, "no connection after SIGTERM"
    assert {s.request_id for s in answered} <= stored_request_ids(db)

    async with serving(config, tmp_path, name="second") as again:
        async with aiohttp.ClientSession() as http:
            logged = {row["requestId"]: row for row in await request_log(http, again.url)}
        assert await again.stop() == 0
    assert len(logged) == len(answered)
    for s in answered:
        row = logged[s.request_id]
        assert (row["status"], row["streamed"], row["provider"]) == (s.status, s.stream, "a")
        assert [a["outcome"] for a in row["attempts"]] == ["served"]


async def test_a_request_past_the_drain_deadline_is_cut_but_recorded(
    upstream_factory, tmp_path: Path
):
    """The CLI's shape in-process (a main task that a signal cancels, stopping the server in
    `finally`), with a short grace: the request still running when it passes is cut short with
    a 503, and its record is flushed with the others before the process would exit."""
    upstream = await upstream_factory(ok(), hang())
    db = tmp_path / "u.db"
    settings = usage_settings(db, shutdownGraceMs=300)
    config = make_config([("a", upstream.base_url)], settings=settings)
    started: asyncio.Future[RunningServer] = asyncio.get_running_loop().create_future()

    async def main() -> None:
        server = await start_proxy(config)
        started.set_result(server)
        try:
            await asyncio.Event().wait()
        finally:
            await server.stop()

    main_task = create_task(main(), name="main")
    server = await started
    async with aiohttp.ClientSession() as session:
        served = await send(session, server.url, stream=False)
        stuck = create_task(send(session, server.url, stream=False), name="stuck")
        await eventually(lambda: upstream.calls == 2, timeout=10)
        main_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await main_task
        cut = await stuck
        assert (cut.status, orjson.loads(cut.body)["error"]["code"]) == (503, "shutdown")

    rows = query(
        db, "SELECT request_id, status, provider_id, error_class FROM requests ORDER BY started_at"
    )
    assert rows == [
        {"request_id": served.request_id, "status": 200, "provider_id": "a", "error_class": None},
        {
            "request_id": cut.request_id,
            "status": 503,
            "provider_id": None,
            "error_class": "shutdown",
        },
    ]
