"""The shared limit state on a real three-master Redis Cluster (`redis+cluster://`): every
script runs on one slot of whichever master holds it, a slot moved mid-use (ASK, then MOVED)
keeps its state and its order, scripts a node lost are loaded again, and a node that stops is
the store's outage (local state) until it returns."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.crc import key_slot
from structlog.testing import capture_logs

from chain429.config.schema import ProviderConfig
from chain429.limits.state import Reservation
from chain429.limits.tracker import Skip, SkipReason
from chain429.outcome import Outcome
from chain429.state_store.config_sharing import RECORD, REPLACED
from chain429.state_store.names import SlotKeys, key_fingerprint, slot_keys
from tests.integration.test_shared_tracker import POLICY, admit, requests_left, served
from tests.support.clock import FakeClock
from tests.support.polling import eventually
from tests.support.redis_cluster import RedisClusterServers
from tests.support.shared_trackers import Replica, tracker_replicas

LEASE_S = 40.0


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def replica(redis_cluster: RedisClusterServers, clock: FakeClock) -> AsyncIterator[Replica]:
    """Makes trackers that share `redis_cluster`, each over its own store."""
    async with tracker_replicas(redis_cluster.url, clock, POLICY, LEASE_S) as make:
        yield make


def provider(number: int) -> ProviderConfig:
    return ProviderConfig.model_validate(
        {"id": f"p{number}", "type": "groq", "apiKey": f"sk-cluster-key-{number}"}
    )


def keys_of(p: ProviderConfig) -> SlotKeys:
    return slot_keys(p.id, key_fingerprint(p.id, p.api_key or ""))


def slot_of(p: ProviderConfig) -> int:
    return key_slot(keys_of(p).state.encode())


def spread(per_master: int) -> list[ProviderConfig]:
    """Providers whose state lands `per_master` on each master (`redis-cli --cluster create`
    gives each a third of the slots)."""
    thirds: dict[int, list[ProviderConfig]] = {0: [], 1: [], 2: []}
    for p in map(provider, range(1000)):
        third = thirds[slot_of(p) * 3 // 16384]
        if len(third) < per_master:
            third.append(p)
    return [p for third in thirds.values() for p in third]


async def test_every_script_runs_on_one_slot_of_whichever_master_holds_it(
    replica, clock, redis_cluster
) -> None:
    tracker, other = await replica(), await replica()
    providers = spread(per_master=4)

    with capture_logs() as logs:
        for p in providers:
            reservation = await admit(tracker, provider=p)
            assert isinstance(reservation, Reservation), reservation
            tracker.observe(reservation, requests_left(clock, remaining=5))
            tracker.release(reservation)
            tracker.record(reservation, Outcome.RATE_LIMITED, clock.now() + 30, "HTTP 429")
        await tracker.store.flushed()

    assert [e for e in logs if e["log_level"] == "error"] == []
    assert tracker.store.available
    for p in providers:  # each provider's cooldown reached the other replica through the cluster
        skip = await admit(other, provider=p)
        assert isinstance(skip, Skip) and skip.reason is SkipReason.COOLING_DOWN
    holding = [await redis_cluster.keys_on(node) for node in redis_cluster.nodes]
    assert all(holding), "the providers' state is spread over every master"
    for keys in holding:
        tags = {key.partition(b"}")[0] for key in keys}
        for tag in tags:  # a provider key's keys: one slot, on one master
            assert len({key_slot(k) for k in keys if k.startswith(tag)}) == 1
    for p in providers:
        assert len({key_slot(k.encode()) for k in keys_of(p)}) == 1
    assert key_slot(RECORD.encode()) == key_slot(REPLACED.encode())


class Resharding:
    """Moving one slot from the master that holds it to another, as `redis-cli --cluster
    reshard` does, a step at a time."""

    def __init__(self, cluster: RedisClusterServers, slot: int) -> None:
        self._cluster, self.slot = cluster, slot
        self.finished = False

    async def __aenter__(self) -> Resharding:
        self.source = await self._cluster.node_serving(self.slot)
        self.target = next(node for node in self._cluster.nodes if node is not self.source)
        self._from, self._to = self.source.client(), self.target.client()
        self._to_id = await self._to.cluster("MYID")
        await self._to.cluster("SETSLOT", self.slot, "IMPORTING", await self._from.cluster("MYID"))
        await self._from.cluster("SETSLOT", self.slot, "MIGRATING", self._to_id)
        return self

    async def move(self, keys: list[str]) -> None:
        await self._from.migrate("127.0.0.1", self.target.port, keys, 0, 5000)

    async def finish(self) -> None:
        for client in (self._to, self._from):
            await client.cluster("SETSLOT", self.slot, "NODE", self._to_id)
        self.finished = True

    async def __aexit__(self, *_: object) -> None:
        if not self.finished:  # a failed test leaves the session's cluster
            for client in (self._to, self._from):  # as it was, for the tests after it
                await client.cluster("SETSLOT", self.slot, "STABLE")
        await self._from.aclose()
        await self._to.aclose()


async def test_a_slot_moved_to_another_master_mid_use_keeps_its_state(
    replica, clock, redis_cluster
) -> None:
    one, two = await replica(), await replica()
    p = provider(0)
    await served(one, clock, remaining=4, provider=p)
    assert isinstance(await admit(one, provider=p), Reservation)  # held: all 3 keys exist

    async with Resharding(redis_cluster, slot_of(p)) as resharding:
        assert isinstance(await admit(two, provider=p), Reservation)  # still on the source
        await resharding.move(list(keys_of(p)))
        assert isinstance(await admit(one, provider=p), Reservation)  # ASK: to the target
        await resharding.finish()
        assert isinstance(await admit(two, provider=p), Reservation)  # MOVED: the target's

    refused = await admit(one, provider=p)  # 4 left, 4 taken: the state went along
    assert isinstance(refused, Skip) and refused.reason is SkipReason.REQUESTS_EXHAUSTED
    assert await redis_cluster.keys_on(resharding.target) == {k.encode() for k in keys_of(p)}
    assert one.store.available and two.store.available


async def test_a_call_on_a_slot_half_moved_is_served_locally_until_it_has_moved(
    replica, clock, redis_cluster
) -> None:
    one, two = await replica(), await replica()
    p = provider(0)
    await served(one, clock, remaining=2, provider=p)  # no lease held: only `state` exists

    async with Resharding(redis_cluster, slot_of(p)) as resharding:
        await resharding.move([keys_of(p).state])
        with capture_logs() as logs:  # the target lacks the (empty) lease keys: TRYAGAIN
            assert isinstance(await admit(two, provider=p), Reservation)
        await resharding.finish()

    events = [entry["event"] for entry in logs]
    assert events == ["state store calls not shared: their slot is moving between nodes"]
    assert two.store.available
    assert isinstance(await admit(one, provider=p), Reservation)  # the local one took none
    assert isinstance(await admit(two, provider=p), Reservation)
    assert isinstance(await admit(one, provider=p), Skip)


async def test_scripts_a_node_lost_are_loaded_again(replica, clock, redis_cluster) -> None:
    tracker = await replica()
    await served(tracker, clock, remaining=2, provider=provider(1))
    for node in redis_cluster.nodes:
        client = node.client()
        await client.script_flush()
        await client.aclose()

    with capture_logs() as logs:
        await served(tracker, clock, remaining=1, provider=provider(1))
        assert isinstance(await admit(tracker, provider=provider(1)), Reservation)

    assert isinstance(await admit(tracker, provider=provider(1)), Skip)  # 1 left, 1 taken
    assert [e for e in logs if e["log_level"] in ("error", "warning")] == []


async def test_a_stopped_node_is_an_outage_until_it_returns(replica, clock, redis_cluster) -> None:
    one, two = await replica(), await replica()
    p = provider(2)
    await served(one, clock, remaining=1, provider=p)
    node = await redis_cluster.node_serving(slot_of(p))

    with capture_logs() as logs:
        node.kill()
        local = await admit(one, provider=p)  # not shared: served on the replica's own state
        assert isinstance(local, Reservation)
        await eventually(lambda: not one.store.available, what="local")
        one.release(local)
        await redis_cluster.start(node)
        await eventually(lambda: one.store.available and two.store.available, what="shared")

    events = [entry["event"] for entry in logs]
    assert events.count("state store unavailable: serving on local state") >= 1
    assert "state store reachable again: limits are shared again" in events
    third = slot_of(p) * 3 // 16384
    q = next(x for x in spread(per_master=2) if x != p and slot_of(x) * 3 // 16384 == third)
    await served(two, clock, remaining=1, provider=q)  # on the node that came back
    assert isinstance(await admit(one, provider=q), Reservation)
    assert isinstance(await admit(two, provider=q), Skip)  # shared again
