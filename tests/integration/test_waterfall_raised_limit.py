"""A limit the provider raises between two windows is used whole: the first answer of the new
window is a measurement and replaces the refill the proxy assumed from the old limit."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from chain429.app import AppOptions
from tests.support.client import chat, send
from tests.support.clock import FakeClock
from tests.support.polling import eventually
from tests.support.proxy import make_config
from tests.support.upstream import completion, ok

WINDOW_S = 60.0
START = 1_800_000_000.0


@dataclass
class RaisableUpstream:
    """Allows `limit` requests per fixed minute window on `clock` and says so in OpenAI's
    headers; holds its answers while `gate` is closed."""

    clock: FakeClock
    limit: int
    gate: asyncio.Event = field(default_factory=asyncio.Event)
    counted: dict[int, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.gate.set()

    def in_window(self, index: int) -> int:
        return self.counted.get(index, 0)

    async def __call__(self, request: web.Request, _: dict[str, Any]) -> web.StreamResponse:
        now = self.clock.now()
        index = int((now - START) // WINDOW_S)
        used = self.counted[index] = self.counted.get(index, 0) + 1
        reset_in = START + (index + 1) * WINDOW_S - now
        headers = {
            "x-ratelimit-limit-requests": str(self.limit),
            "x-ratelimit-remaining-requests": str(max(0, self.limit - used)),
            "x-ratelimit-reset-requests": f"{reset_in:g}s",
        }
        await self.gate.wait()
        if used > self.limit:
            return web.json_response({"error": {"message": "too many"}}, 429, headers=headers)
        return web.json_response(completion(), headers=headers)


async def test_a_limit_raised_between_windows_is_used_whole(upstream_factory, proxy_factory, http):
    clock = FakeClock(START)
    first = RaisableUpstream(clock, limit=5)
    a = await upstream_factory(first)
    b = await upstream_factory(ok())
    config = make_config([("a", a.base_url), ("b", b.base_url)])
    server = await proxy_factory(config, AppOptions(clock=clock))

    for _ in range(5):
        assert (await chat(http, server)).headers["X-429chain-Provider"] == "a/a-model"
    assert (await chat(http, server)).headers["X-429chain-Provider"] == "b/b-model"

    first.limit = 10
    clock.advance(WINDOW_S + 1)
    assert (await chat(http, server)).headers["X-429chain-Provider"] == "a/a-model"
    status = (await send(http, server, "/api/ratelimits", method="GET")).json()
    (window,) = next(e for e in status["entries"] if e["provider"] == "a")["metrics"]
    assert (window["limit"], window["remaining"]) == (10, 9)

    first.gate.clear()
    burst = [asyncio.ensure_future(chat(http, server)) for _ in range(20)]
    await eventually(lambda: first.in_window(1) + b.calls - 1 == 21, what="the burst arrived")
    assert first.in_window(1) == 10, "the whole new quota went to the first entry"
    first.gate.set()
    answers = await asyncio.gather(*burst)
    assert [r.status for r in answers] == [200] * 20
    assert a.calls == 15
