"""The demo's trickle against a stand-in proxy: what it sends, that a failure is logged once and
does not stop it, and that stopping it lets the request under way finish."""

from __future__ import annotations

import asyncio
import random
import socket
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from structlog.testing import capture_logs

from chain429 import demo_traffic
from chain429.demo_traffic import Traffic, let_finish, send_traffic
from tests.support.polling import eventually

CHAINS = (("default", 3), ("fast", 1))


class CountingRandom(random.Random):
    """A seeded Random that counts the waits drawn: one per request the trickle sent."""

    def __init__(self) -> None:
        super().__init__(7)
        self.waits = 0

    def uniform(self, a: float, b: float) -> float:
        self.waits += 1
        return super().uniform(a, b)


class StandIn:
    """A proxy stand-in: records each request, and answers 429 and 200 in turn."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, object]] = []
        self.keys: list[str] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.bodies.append(await request.json())
        self.keys.append(request.headers["Authorization"])
        return web.json_response({"ok": True}, status=429 if len(self.bodies) % 2 else 200)


@pytest.fixture
async def stand_in() -> AsyncIterator[tuple[StandIn, str]]:
    fake = StandIn()
    app = web.Application()
    app.router.add_post("/v1/chat/completions", fake.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield fake, str(server.make_url("")).rstrip("/")
    await server.close()


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    await asyncio.wait([task])
    assert task.cancelled(), "it ends by being cancelled, with no error of its own"


async def test_the_trickle_sends_chat_completions_on_its_chains_whatever_the_answer(
    stand_in: tuple[StandIn, str],
) -> None:
    fake, url = stand_in
    traffic = Traffic(url, "demo-key", 0.001, CHAINS)
    task = asyncio.get_running_loop().create_task(send_traffic(traffic, random.Random(3)))
    await eventually(lambda: len(fake.bodies) >= 40, what="40 requests")
    await stop(task)
    assert set(fake.keys) == {"Bearer demo-key"}
    chains = [body["model"] for body in fake.bodies]
    assert set(chains) == {"default", "fast"} and chains.count("default") > chains.count("fast")
    assert {body["stream"] for body in fake.bodies} == {True, False}
    assert all(body["messages"] for body in fake.bodies)


async def test_a_failed_request_is_logged_once_and_the_trickle_goes_on() -> None:
    draw = CountingRandom()
    traffic = Traffic(f"http://127.0.0.1:{free_port()}", "demo-key", 0.001, CHAINS)
    with capture_logs() as logs:
        task = asyncio.get_running_loop().create_task(send_traffic(traffic, draw))
        await eventually(lambda: draw.waits >= 5, what="five failed requests")
        await stop(task)
    (warning,) = logs
    assert warning["log_level"] == "warning" and "a request failed" in warning["event"]
    assert warning["chain"] in {"default", "fast"} and warning["error"]


async def test_stopping_lets_the_request_under_way_finish() -> None:
    gate, started, finished = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def request() -> None:
        started.set()
        await gate.wait()
        finished.set()

    task = asyncio.get_running_loop().create_task(let_finish(request()))
    await eventually(started.is_set, what="the request under way")
    task.cancel()
    gate.set()
    await asyncio.wait([task])
    assert task.cancelled() and finished.is_set(), "the request ended, not cut off"


async def test_a_request_that_does_not_finish_in_time_is_stopped_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(demo_traffic, "FINISH_S", 0.01)
    started, cut = asyncio.Event(), asyncio.Event()

    async def request() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        finally:
            cut.set()

    task = asyncio.get_running_loop().create_task(let_finish(request()))
    await eventually(started.is_set, what="the request under way")
    task.cancel()
    await asyncio.wait([task])
    assert task.cancelled() and cut.is_set()
