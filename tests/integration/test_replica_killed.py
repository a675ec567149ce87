"""A replica killed with requests in flight hands its reservations back within the lease.

Two `429chain serve` processes share one Redis (`settings.stateStore`) in front of the
simulator. Replica A holds as many streaming requests at entry `a` as `a`'s headers say are
left, then dies by SIGKILL: it releases nothing. While its leases live, replica B skips `a`
(no call reaches it) and serves from the next entry; once they run out, at their admission
plus `lease_s` (the request timeout plus its margin), B is served by `a` again, and nothing
of A's is left held in Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

import openai
import pytest

from chain429.sim.config import Dialect, SimProviderConfig
from chain429.state_store.opening import lease_s
from tests.support.client import MESSAGES
from tests.support.polling import eventually
from tests.support.proxy import CLIENT_KEY, make_config
from tests.support.redis_server import RedisServer
from tests.support.serve_process import ServeProcess, serving

#: Requests A holds in flight: all `a` has left after the first answer.
IN_FLIGHT = 3
#: The request timeout, so the lease (with its margin, 2 s here) is 6 s: A's requests must
#: still be waiting for their first byte when it dies, well within this.
TIMEOUT_MS = 4_000
#: How far a replica's wall clock may be from the test's: both read the same clock, the
#: replica through its steady timeline (`chain429.clock`), which drifts by milliseconds.
CLOCKS_S = 0.05
#: How long after the last lease runs out B may take to notice, on a loaded machine.
NOTICE_S = 10.0
#: The fields of a key slot's state in Redis that count what is in flight (`scripts`).
IN_FLIGHT_FIELDS = ("|req", "|tok", "|freq", "|ftok")


def client_of(proxy: ServeProcess) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=f"{proxy.url}/v1", api_key=CLIENT_KEY, max_retries=0)


async def ask(client: openai.AsyncOpenAI) -> tuple[str, str]:
    """One request; (the provider that served it, the attempts it took)."""
    raw = await client.chat.completions.with_raw_response.create(model="default", messages=MESSAGES)
    assert raw.parse().choices[0].message.content
    return raw.headers["x-429chain-provider"].partition("/")[0], raw.headers["x-429chain-attempts"]


async def stream(client: openai.AsyncOpenAI) -> None:
    async for _ in await client.chat.completions.create(
        model="default", messages=MESSAGES, stream=True
    ):
        pass


async def leases_of_a(redis: RedisServer) -> list[float]:
    """The expiry (epoch seconds) of every lease held on provider `a`'s key in Redis."""
    client = redis.client()
    try:
        names = [name async for name in client.scan_iter(match="c429:{a:*}:leases")]
        expiries: list[float] = []
        for name in names:
            expiries += [score for _, score in await client.zrange(name, 0, -1, withscores=True)]
        return sorted(expiries)
    finally:
        await client.aclose()


async def held_in_flight(redis: RedisServer) -> dict[str, int]:
    """The in-flight counters of provider `a`'s key in Redis (requests and tokens, per model
    and for the key) that are not 0."""
    client = redis.client()
    try:
        counters: dict[str, int] = {}
        async for name in client.scan_iter(match="c429:{a:*}:state"):
            for field, value in (await client.hgetall(name)).items():
                if field.decode().endswith(IN_FLIGHT_FIELDS) and int(value):
                    counters[field.decode()] = int(value)
        return counters
    finally:
        await client.aclose()


@pytest.mark.timeout(90)
async def test_a_replica_killed_with_streams_in_flight_hands_them_back_within_the_lease(
    sim_factory, redis_server: RedisServer, tmp_path
) -> None:
    sim = await sim_factory(
        SimProviderConfig(
            name="a",
            dialect=Dialect.OPENAI,
            requests_per_window=IN_FLIGHT + 1,
            window_seconds=3600,
        ),
        SimProviderConfig(name="c", dialect=Dialect.NONE),
    )
    config = make_config(
        [("a", sim.base_url("a")), ("c", sim.base_url("c"))],
        provider_types={"a": "openai"},
        settings={"stateStore": redis_server.url, "requestTimeoutMs": TIMEOUT_MS},
    )
    lease = lease_s(config)
    async with contextlib.AsyncExitStack() as stack:
        async with asyncio.TaskGroup() as group:  # started side by side: half the wait
            starting = [
                group.create_task(stack.enter_async_context(serving(config, tmp_path, name=name)))
                for name in ("doomed", "survivor")
            ]
        doomed, survivor = (task.result() for task in starting)
        one = await stack.enter_async_context(client_of(doomed))
        two = await stack.enter_async_context(client_of(survivor))
        assert await ask(one) == ("a", "1")  # the fleet learns `remaining: 3`
        sim.configure("a", {"hangRate": 1.0})  # from now on `a` keeps requests, answers none

        sent = time.time()
        streams = [asyncio.ensure_future(stream(one)) for _ in range(IN_FLIGHT)]
        await eventually(lambda: sim.stats("a")["hung"] == IN_FLIGHT, what="A's streams at a")
        doomed.process.kill()
        assert await doomed.wait() == -9
        killed = time.time()
        failed = await asyncio.gather(*streams, return_exceptions=True)
        assert all(isinstance(f, openai.APIConnectionError) for f in failed), failed
        sim.configure("a", {"hangRate": 0.0})

        expiries = await leases_of_a(redis_server)
        assert len(expiries) == IN_FLIGHT, "A's leases outlive it in Redis"
        for expiry in expiries:  # taken (or renewed) while A lived, for one lease
            assert sent + lease - CLOCKS_S <= expiry <= killed + lease + CLOCKS_S
        answers: list[tuple[float, str, str, float]] = []

        async def all_handed_back() -> bool:
            asked = time.time()
            provider, attempts = await ask(two)
            answers.append((asked, provider, attempts, time.time()))
            return provider == "a" and not await leases_of_a(redis_server)

        await eventually(
            all_handed_back,
            timeout=expiries[-1] + NOTICE_S - time.time(),
            what="A's leases run out",
            interval=0.2,
        )

    served_by_a = [answer for answer in answers if answer[1] == "a"]
    first = answers.index(served_by_a[0])
    refused, served = answers[:first], served_by_a[0]
    assert refused, "B asked while every lease of A lived"
    for asked, provider, attempts, _ in refused:  # a skipped without a call, c served
        assert (provider, attempts) == ("c", "2")
        assert asked < expiries[0] + CLOCKS_S
    assert served[3] >= expiries[0] - CLOCKS_S  # not before a lease of A ran out
    stats = sim.stats("a")
    assert stats["requests"] == 1 + IN_FLIGHT + len(served_by_a)
    assert stats["rate_limited"] == 0
    assert await held_in_flight(redis_server) == {}
