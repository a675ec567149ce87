"""Two proxies run from config files, sharing one Redis (`settings.stateStore`): a chain added
through the management API on one serves on the other within a second, and only the replica
that took the change writes a file (with a file each, and with one shared file); a stale
`If-Match` is a 412 on every replica; a replica started later, or cut off from Redis while the
change was made, catches up."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import aiohttp
import openai
import pytest
from structlog.testing import capture_logs

from chain429.app import AppOptions
from chain429.config.save import LOCAL_FILES
from chain429.limits.tracker import LimitTracker
from chain429.server import RunningServer
from chain429.state import STATE
from chain429.state_store.config_sharing import RECORD
from chain429.state_store.shared_tracker import SharedTracker, lease_length_s
from tests.support.config_file import A_KEY, KEY_VARIABLE, api, start_file_proxy, write_config
from tests.support.polling import eventually
from tests.support.redis_cluster import ON_A_CLUSTER_TOO, RedisClusterServers, outage
from tests.support.redis_server import RedisServer
from tests.support.upstream import FakeUpstream, ok

#: The issue's promise: a change reaches every replica within a second.
PROPAGATION_S = 1.0
FAST = {"name": "fast", "entries": [{"provider": "b", "model": "b-model"}]}


@dataclass
class Replica:
    server: RunningServer
    path: Path
    saves: list[Path] = field(default_factory=list)

    def text(self) -> str:
        return self.path.read_text(encoding="utf-8")


@pytest.fixture
async def upstream(upstream_factory, monkeypatch) -> FakeUpstream:
    monkeypatch.setenv(KEY_VARIABLE, A_KEY)
    fake: FakeUpstream = await upstream_factory(ok("served"))
    return fake


async def start_replica(proxy_factory, path: Path) -> Replica:
    """A proxy run from `path`, counting the files it saves."""
    saves: list[Path] = []

    def rename(source: Path, target: Path) -> None:
        saves.append(target)
        LOCAL_FILES.rename(source, target)

    options = AppOptions(config_files=replace(LOCAL_FILES, rename=rename))
    return Replica(await start_file_proxy(proxy_factory, path, options), path, saves)


def own_file(
    tmp_path: Path, name: str, upstream: FakeUpstream, redis: RedisServer | RedisClusterServers
) -> Path:
    directory = tmp_path / name
    directory.mkdir()
    return write_config(directory, upstream.base_url, state_store=redis.url)


async def serves_fast(client: openai.AsyncOpenAI) -> bool:
    """Whether the chain `fast` (b only) serves the request: an unknown model goes to the
    default chain, which starts with a."""
    raw = await client.chat.completions.with_raw_response.create(
        model="fast", messages=[{"role": "user", "content": "hi"}]
    )
    assert raw.parse().choices[0].message.content == "served"
    return raw.headers["x-429chain-provider"] == "b/b-model"


async def version(http: aiohttp.ClientSession, replica: Replica) -> str:
    return (await api(http, replica.server, "GET", "/api/config")).headers["ETag"]


@ON_A_CLUSTER_TOO
async def test_a_chain_added_on_one_replica_serves_on_the_other_within_a_second(
    upstream, proxy_factory, client_factory, shared_redis, http, tmp_path
) -> None:
    one = await start_replica(proxy_factory, own_file(tmp_path, "one", upstream, shared_redis))
    two = await start_replica(proxy_factory, own_file(tmp_path, "two", upstream, shared_redis))
    file_two = two.text()
    client = client_factory(two.server)
    assert not await serves_fast(client)

    added = await api(http, one.server, "POST", "/api/chains", FAST)

    assert added.status == 201, added.body
    await eventually(lambda: serves_fast(client), timeout=PROPAGATION_S, what="fast on two")
    assert await version(http, two) == added.headers["ETag"]
    assert "name: fast" in one.text()
    assert (len(one.saves), len(two.saves)) == (1, 0)
    assert two.text() == file_two  # only the replica that took the change writes its file


async def test_a_change_on_the_replica_whose_file_is_behind_keeps_the_fleets_changes(
    upstream, proxy_factory, client_factory, redis_server, http, tmp_path
) -> None:
    one = await start_replica(proxy_factory, own_file(tmp_path, "one", upstream, redis_server))
    two = await start_replica(proxy_factory, own_file(tmp_path, "two", upstream, redis_server))
    file_two = two.text()
    added = await api(http, one.server, "POST", "/api/chains", FAST)
    await eventually(lambda: _is(version(http, two), added.headers["ETag"]), what="fast on two")

    slow = {"name": "slow", "entries": [{"provider": "a", "model": "a-model"}]}
    again = await api(http, two.server, "POST", "/api/chains", slow, if_match=added.headers["ETag"])

    assert again.status == 201, again.body
    await eventually(lambda: _is(version(http, one), again.headers["ETag"]), what="slow on one")
    chains = (await api(http, one.server, "GET", "/api/chains")).json()["chains"]
    assert [c["name"] for c in chains] == ["default", "fast", "slow"]
    assert await serves_fast(client_factory(one.server))
    assert two.text() == file_two  # its file lacks the fleet's change: it is not edited
    assert (len(one.saves), len(two.saves)) == (1, 0)


async def test_replicas_sharing_one_file_write_it_once(
    upstream, proxy_factory, client_factory, redis_server, http, tmp_path
) -> None:
    path = own_file(tmp_path, "shared", upstream, redis_server)
    one = await start_replica(proxy_factory, path)
    two = await start_replica(proxy_factory, path)
    client = client_factory(two.server)

    added = await api(http, one.server, "POST", "/api/chains", FAST)

    assert added.status == 201, added.body
    await eventually(lambda: serves_fast(client), timeout=PROPAGATION_S, what="fast on two")
    assert (len(one.saves), len(two.saves)) == (1, 0)
    assert "name: fast" in path.read_text(encoding="utf-8")
    reloaded = await api(http, two.server, "POST", "/api/config/reload")
    assert reloaded.status == 200, reloaded.body
    assert reloaded.headers["ETag"] == added.headers["ETag"]


async def test_a_stale_if_match_is_refused_on_every_replica(
    upstream, proxy_factory, redis_server, http, tmp_path
) -> None:
    one = await start_replica(proxy_factory, own_file(tmp_path, "one", upstream, redis_server))
    two = await start_replica(proxy_factory, own_file(tmp_path, "two", upstream, redis_server))
    read = await version(http, two)

    added = await api(http, one.server, "POST", "/api/chains", FAST, if_match=read)
    assert added.status == 201, added.body
    await eventually(lambda: _is(version(http, two), added.headers["ETag"]), timeout=PROPAGATION_S)
    stale = await api(http, two.server, "DELETE", "/api/chains/fast", if_match=read)

    assert (stale.status, stale.error["code"]) == (412, "stale_version")
    assert two.saves == []


async def test_a_change_the_fleet_has_moved_past_is_refused_before_this_replica_hears_of_it(
    upstream, proxy_factory, redis_server, http, tmp_path
) -> None:
    replica = await start_replica(proxy_factory, own_file(tmp_path, "one", upstream, redis_server))
    before = replica.text()
    client = redis_server.client()
    try:  # another replica's change, stored but not yet heard of here
        await client.hset(RECORD, mapping={"version": '"0000000000000000"', "config": "{}"})
    finally:
        await client.aclose()

    refused = await api(
        http, replica.server, "POST", "/api/chains", FAST, if_match=await version(http, replica)
    )

    assert (refused.status, refused.error["code"]) == (412, "stale_version")
    assert refused.error["message"].startswith("Another replica changed")
    assert replica.text() == before  # the file written for the change was restored


async def test_a_replica_started_after_the_change_runs_it(
    upstream, proxy_factory, client_factory, redis_server, http, tmp_path
) -> None:
    one = await start_replica(proxy_factory, own_file(tmp_path, "one", upstream, redis_server))
    added = await api(http, one.server, "POST", "/api/chains", FAST)
    assert added.status == 201, added.body

    late = await start_replica(proxy_factory, own_file(tmp_path, "late", upstream, redis_server))

    assert await version(http, late) == added.headers["ETag"]
    assert await serves_fast(client_factory(late.server))
    assert "fast" not in late.text()


@ON_A_CLUSTER_TOO
async def test_a_change_made_while_redis_is_down_reaches_the_other_replica_when_it_returns(
    upstream, proxy_factory, client_factory, shared_redis, http, tmp_path
) -> None:
    one = await start_replica(proxy_factory, own_file(tmp_path, "one", upstream, shared_redis))
    two = await start_replica(proxy_factory, own_file(tmp_path, "two", upstream, shared_redis))
    client = client_factory(two.server)

    with capture_logs() as logs:
        restart = await outage(shared_redis, RECORD)  # of a cluster: the configuration's node
        added = await api(http, one.server, "POST", "/api/chains", FAST)
        assert added.status == 201, added.body  # applied here, Redis or not
        assert await serves_fast(client_factory(one.server))
        assert not await serves_fast(client)

        await restart()
        await eventually(lambda: serves_fast(client), what="fast on two after the outage")

    events = [entry["event"] for entry in logs]
    lost = [e for e in events if e.startswith("config sharing unavailable")]
    assert len(lost) == 2  # once per replica
    assert events.count("config published to the other replicas") == 1
    assert A_KEY not in repr(logs)


async def _is(value, expected: str) -> bool:
    return await value == expected


async def test_a_timeout_changed_on_one_replica_sets_the_lease_length_on_both(
    upstream, proxy_factory, redis_server, http, tmp_path
) -> None:
    one = await start_replica(proxy_factory, own_file(tmp_path, "one", upstream, redis_server))
    two = await start_replica(proxy_factory, own_file(tmp_path, "two", upstream, redis_server))
    trackers = [replica.server.app[STATE].tracker for replica in (one, two)]
    assert [lease_length(t) for t in trackers] == [lease_length_s(5.0)] * 2

    changed = await api(http, one.server, "PATCH", "/api/settings", {"requestTimeoutMs": 120_000})

    assert changed.status == 200, changed.body
    expected = [lease_length_s(120.0)] * 2
    await eventually(lambda: [lease_length(t) for t in trackers] == expected, what="new leases")


def lease_length(tracker: LimitTracker) -> float:
    assert isinstance(tracker, SharedTracker)
    return tracker.lease_s
