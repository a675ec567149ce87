"""The dashboard's view of a fleet: two proxies sharing one Redis, through their APIs. Each
one's `/v1/ratelimits`, `/api/ratelimits` and `limits` events show what the other has in
flight and the cooldowns it learned (`stateStore: shared`), its own view again while Redis is
away (`local`); each one's live feed carries the other's requests, with the replica that
served them; `/api/replicas` lists both. Many dashboards cost one Redis reading a second, and
requests with nobody watching cost none."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from chain429.app import AppOptions
from chain429.server import RunningServer
from chain429.sim.config import Dialect, SimProviderConfig
from chain429.state import STATE
from tests.integration.test_replicas_redis import ask
from tests.support.clock import FakeClock
from tests.support.events import event_stream
from tests.support.polling import eventually
from tests.support.proxy import CLIENT_KEY, PROVIDER_KEY, make_config
from tests.support.redis_cluster import ON_A_CLUSTER_TOO, RedisClusterServers
from tests.support.redis_server import RedisServer
from tests.support.upstream import gated, ok
from tests.support.usage_records import MemorySink

HEADERS = {"Authorization": f"Bearer {CLIENT_KEY}"}


async def get(http: aiohttp.ClientSession, server: RunningServer, path: str) -> Any:
    async with http.get(f"{server.url}{path}", headers=HEADERS) as answer:
        assert answer.status == 200, await answer.text()
        return await answer.json()


async def original_row(http: aiohttp.ClientSession, server: RunningServer, provider: str) -> Any:
    body = await get(http, server, "/v1/ratelimits")
    (row,) = [r for r in body["ratelimits"] if r["provider"] == provider]
    return body["stateStore"], row


async def two_replicas(proxy_factory, config) -> list[RunningServer]:
    clock = FakeClock()
    return [
        await proxy_factory(config, AppOptions(clock=clock, sink=MemorySink())) for _ in range(2)
    ]


@ON_A_CLUSTER_TOO
async def test_b_shows_what_a_has_in_flight(
    upstream_factory,
    proxy_factory,
    client_factory,
    shared_redis: RedisServer | RedisClusterServers,
    http,
) -> None:
    gate = asyncio.Event()
    slow = await upstream_factory(gated(ok(), gate), gated(ok(), gate))
    config = make_config(
        [("a", slow.base_url)],
        settings={"stateStore": shared_redis.url},
        provider_extra={"a": {"rateLimits": {"requestsPerMinute": 5}}},
    )
    one, two = await two_replicas(proxy_factory, config)
    in_flight = [asyncio.ensure_future(ask(client_factory(one, timeout=30))) for _ in range(2)]
    await eventually(lambda: slow.calls == 2, what="both requests at the upstream")

    async def b_sees_two() -> Any:
        view, row = await original_row(http, two, "a")
        return (view, row) if row["inFlight"] == 2 else None

    view, row = await eventually(b_sees_two, what="B counting A's requests")
    assert view == "shared"
    assert row["quota"]["remainingRequests"] == 5
    detailed = await get(http, two, "/api/ratelimits")
    assert detailed["stateStore"] == "shared"
    (entry,) = detailed["entries"]
    (metric,) = entry["metrics"]
    assert (entry["inFlight"], metric["remaining"], metric["inFlight"]) == (2, 5, 2)
    assert (await original_row(http, one, "a"))[1]["inFlight"] == 2
    gate.set()
    await asyncio.gather(*in_flight)


async def test_b_shows_a_cooldown_a_learned(
    sim_factory, proxy_factory, client_factory, redis_server: RedisServer, http
) -> None:
    clock = FakeClock()
    sim = await sim_factory(
        SimProviderConfig(name="a", dialect=Dialect.NONE, requests_per_window=1),
        SimProviderConfig(name="c", dialect=Dialect.NONE),
        clock=clock,
    )
    config = make_config(
        [(name, sim.base_url(name)) for name in ("a", "c")],
        settings={"stateStore": redis_server.url},
    )
    one, two = [
        await proxy_factory(config, AppOptions(clock=clock, sink=MemorySink())) for _ in range(2)
    ]
    assert (await original_row(http, two, "a"))[1]["status"] == "available"
    client = client_factory(one, timeout=30)
    await ask(client)
    assert await ask(client) == ("c", "2")  # a answered 429 with a retry-after: it cools down
    store = one.app[STATE].state_store
    assert store is not None
    await store.flushed()
    assert two.app[STATE].tracker.model_state("a", 0, "a-model") is None  # B never called a

    async def b_sees_it() -> Any:
        view, row = await original_row(http, two, "a")
        return (view, row) if row["status"] == "exhausted" else None

    view, row = await eventually(b_sees_it, what="B showing A's cooldown")
    assert view == "shared"
    assert row["cooldownUntil"] > clock.now() * 1000
    assert row["reason"]


async def test_b_s_limits_events_tell_a_cooldown_a_learned(
    sim_factory, proxy_factory, client_factory, redis_server: RedisServer, http
) -> None:
    sim = await sim_factory(
        SimProviderConfig(name="a", dialect=Dialect.NONE, requests_per_window=1),
        SimProviderConfig(name="c", dialect=Dialect.NONE),
    )
    config = make_config(
        [(name, sim.base_url(name)) for name in ("a", "c")],
        settings={"stateStore": redis_server.url},
    )
    one, two = [await proxy_factory(config, AppOptions(sink=MemorySink())) for _ in range(2)]

    async with event_stream(http, two.url, "?kinds=limits") as feed:
        client = client_factory(one, timeout=30)
        await ask(client)
        assert await ask(client) == ("c", "2")  # a cools down on A

        def a_exhausted(event: Any) -> bool:
            rows = event.data["entries"] if event.name == "limits" else []
            return any(r["provider"] == "a" and r["status"] == "exhausted" for r in rows)

        event, _ = await feed.until(a_exhausted)

    (row,) = [r for r in event.data["entries"] if r["provider"] == "a"]
    assert row["cooldownUntil"] is not None


@ON_A_CLUSTER_TOO
async def test_the_feed_on_b_carries_a_request_served_by_a(
    sim_factory,
    proxy_factory,
    client_factory,
    shared_redis: RedisServer | RedisClusterServers,
    http,
) -> None:
    sim = await sim_factory(SimProviderConfig(name="a"))
    config = make_config([("a", sim.base_url("a"))], settings={"stateStore": shared_redis.url})
    one, two = await two_replicas(proxy_factory, config)
    a_id = (await get(http, one, "/api/replicas"))["selfId"]
    b_id = (await get(http, two, "/api/replicas"))["selfId"]

    async with event_stream(http, two.url, "?kinds=request") as feed:

        async def a_knows_b_watches() -> bool:
            replicas = (await get(http, one, "/api/replicas"))["replicas"]
            return any(r["id"] == b_id and r["watching"] for r in replicas)

        await eventually(a_knows_b_watches, what="A seeing B's dashboard")
        await ask(client_factory(one))
        await ask(client_factory(two))
        first, _ = await feed.until(lambda e: e.name == "request")
        second, _ = await feed.until(lambda e: e.name == "request")

    assert {first.data["replica"], second.data["replica"]} == {a_id, b_id}
    assert first.data["requestId"] != second.data["requestId"]
    assert first.data["provider"] == "a"
    assert PROVIDER_KEY.encode() not in feed.raw


async def test_with_dashboards_on_both_each_sees_each_request_once(
    sim_factory, proxy_factory, client_factory, redis_server: RedisServer, http
) -> None:
    sim = await sim_factory(SimProviderConfig(name="a"))
    config = make_config([("a", sim.base_url("a"))], settings={"stateStore": redis_server.url})
    one, two = await two_replicas(proxy_factory, config)

    async def all_watching() -> bool:
        for server in (one, two):
            replicas = (await get(http, server, "/api/replicas"))["replicas"]
            if len(replicas) != 2 or not all(r["watching"] for r in replicas):
                return False
        return True

    async with (
        event_stream(http, one.url, "?kinds=request") as on_a,
        event_stream(http, two.url, "?kinds=request") as on_b,
    ):
        await eventually(all_watching, what="each replica seeing the other's dashboard")
        asked = [await ask_id(client_factory(server)) for server in (one, two, one)]
        for feed in (on_a, on_b):
            seen: list[str] = []
            while not set(asked) <= set(seen):
                event, _ = await feed.until(lambda e: e.name == "request")
                seen.append(event.data["requestId"])
            # A replica's own requests come back from Redis, and are not shown twice.
            assert sorted(seen) == sorted(asked)


async def ask_id(client) -> str:
    raw = await client.chat.completions.with_raw_response.create(
        model="default", messages=[{"role": "user", "content": "hi"}]
    )
    return str(raw.headers["x-request-id"])


async def test_many_dashboards_cost_one_reading_and_requests_none(
    sim_factory, proxy_factory, client_factory, redis_server: RedisServer, http
) -> None:
    sim = await sim_factory(SimProviderConfig(name="a"))
    config = make_config([("a", sim.base_url("a"))], settings={"stateStore": redis_server.url})
    one, two = await two_replicas(proxy_factory, config)
    fleet = two.app[STATE].fleet
    assert fleet is not None

    for _ in range(3):
        await ask(client_factory(two))
    assert (fleet.limits.reads, fleet.feed.published) == (0, 0)  # nobody watches anything

    answers = await asyncio.gather(*(get(http, two, "/api/ratelimits") for _ in range(20)))

    assert {answer["stateStore"] for answer in answers} == {"shared"}
    assert fleet.limits.reads <= 2  # one, or two if a second passed meanwhile


async def test_replicas_list_both_and_nothing_secret(
    sim_factory, proxy_factory, redis_server: RedisServer, http
) -> None:
    sim = await sim_factory(SimProviderConfig(name="a"))
    config = make_config([("a", sim.base_url("a"))], settings={"stateStore": redis_server.url})
    one, two = await two_replicas(proxy_factory, config)

    async def both_listed() -> Any:
        body = await get(http, one, "/api/replicas")
        return body if len(body["replicas"]) == 2 else None

    body = await eventually(both_listed, what="both replicas listed")
    assert body["stateStore"] == "shared"
    assert {r["id"] for r in body["replicas"]} == {
        body["selfId"],
        (await get(http, two, "/api/replicas"))["selfId"],
    }
    assert set(body["replicas"][0]) == {
        "id",
        "host",
        "pid",
        "version",
        "startedAt",
        "lastSeen",
        "watching",
    }
    contents = await redis_server.contents()
    assert not [key for key, value in contents if PROVIDER_KEY.encode() in key + value]
    assert not [key for key, value in contents if CLIENT_KEY.encode() in key + value]


async def test_redis_away_the_view_is_local_then_shared_again(
    sim_factory, proxy_factory, client_factory, redis_server: RedisServer, http
) -> None:
    sim = await sim_factory(SimProviderConfig(name="a"))
    config = make_config([("a", sim.base_url("a"))], settings={"stateStore": redis_server.url})
    one, two = await two_replicas(proxy_factory, config)
    assert (await original_row(http, two, "a"))[0] == "shared"

    await redis_server.stop()
    await ask(client_factory(two))  # the limit state's store finds Redis gone

    assert (await original_row(http, two, "a"))[0] == "local"
    assert (await get(http, two, "/api/ratelimits"))["stateStore"] == "local"
    replicas = await get(http, two, "/api/replicas")
    assert replicas["stateStore"] == "local"
    assert [r["id"] for r in replicas["replicas"]] == [replicas["selfId"]]

    await redis_server.start()

    async def shared_again() -> bool:
        return (await original_row(http, two, "a"))[0] == "shared"

    await eventually(shared_again, what="the view shared again")


@pytest.mark.parametrize("path", ["/v1/ratelimits", "/api/ratelimits", "/api/replicas"])
async def test_the_memory_store_says_memory(sim_factory, proxy_factory, http, path) -> None:
    sim = await sim_factory(SimProviderConfig(name="a"))
    server = await proxy_factory(make_config([("a", sim.base_url("a"))]))

    body = await get(http, server, path)

    assert body["stateStore"] == "memory"
    assert server.app[STATE].fleet is None
    if path == "/api/replicas":
        assert (body["selfId"], body["replicas"]) == (None, [])
