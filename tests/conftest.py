from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import openai
import pytest

from chain429.app import AppOptions
from chain429.config.schema import Config
from chain429.server import RunningServer
from chain429.sim.config import SimProviderConfig
from chain429.sim.simulator import Simulator
from tests.support.postgres import PostgresServer, find_bindir, running_postgres
from tests.support.proxy import CLIENT_KEY, start_proxy
from tests.support.redis_cluster import RedisClusterServers, redis_cli_path
from tests.support.redis_server import RedisServer, redis_server_path
from tests.support.upstream import Behaviour, FakeUpstream


@pytest.fixture
async def upstream_factory() -> AsyncIterator[Callable[..., Awaitable[FakeUpstream]]]:
    started: list[FakeUpstream] = []

    async def make(*script: Behaviour) -> FakeUpstream:
        fake = await FakeUpstream(list(script)).start()
        started.append(fake)
        return fake

    yield make
    for fake in started:
        await fake.stop()


@pytest.fixture
async def proxy_factory() -> AsyncIterator[Callable[..., Awaitable[RunningServer]]]:
    started: list[RunningServer] = []

    async def make(config: Config, options: AppOptions | None = None) -> RunningServer:
        server = await start_proxy(config, options)
        started.append(server)
        return server

    yield make
    for server in started:
        await server.stop()


@pytest.fixture
async def client_factory() -> AsyncIterator[Callable[..., openai.AsyncOpenAI]]:
    """OpenAI SDK clients for a running proxy (no retries unless asked), closed afterwards."""
    made: list[openai.AsyncOpenAI] = []

    def make(server: RunningServer, **kwargs: Any) -> openai.AsyncOpenAI:
        kwargs.setdefault("api_key", CLIENT_KEY)
        kwargs.setdefault("max_retries", 0)
        client = openai.AsyncOpenAI(base_url=f"{server.url}/v1", **kwargs)
        made.append(client)
        return client

    yield make
    for client in made:
        await client.close()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """A plain aiohttp session, for requests the OpenAI SDK would not send."""
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A private PostgreSQL server for this session (this xdist worker), started on first use.
    Without PostgreSQL's binaries the tests that need it skip, except under CI (`CI=true`),
    where they fail: CI installs Debian's `postgresql` (.ci/run)."""
    bindir = find_bindir()
    if bindir is None:
        missing = "PostgreSQL's binaries (initdb, postgres) not found: apt-get install postgresql"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(missing)
        pytest.skip(missing)
    with running_postgres(bindir) as server:
        yield server


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database, dropped after the test."""
    with postgres_server.database() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def usage_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a usage store keeps its tables: an SQLite file, then a PostgreSQL database (the
    same test runs against each)."""
    if request.param == "sqlite":
        return str(tmp_path / "usage.db")
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
async def redis_server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RedisServer]:
    """A private `redis-server` on a free loopback port, started; stopped after the test (see
    `tests.support.redis_server`: missing, it fails the test under CI and skips it elsewhere)."""
    server = RedisServer(redis_server_path(), tmp_path_factory.mktemp("redis"))
    await server.start()
    yield server
    await server.stop()


@pytest.fixture(scope="session")
def redis_cluster_servers(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RedisClusterServers]:
    """A private three-master Redis Cluster (`tests.support.redis_cluster`), started once per
    session (per xdist worker) and stopped at its end; tests take it through `redis_cluster`."""
    cluster = RedisClusterServers(
        redis_server_path(), redis_cli_path(), tmp_path_factory.mktemp("redis-cluster")
    )
    try:
        asyncio.run(cluster.create())  # its own loop: the nodes are plain processes
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
async def redis_cluster(redis_cluster_servers: RedisClusterServers) -> RedisClusterServers:
    """The session's Redis Cluster, every node running and empty (no key, no script)."""
    await redis_cluster_servers.ready()
    await redis_cluster_servers.flush()
    return redis_cluster_servers


@pytest.fixture
def shared_redis(request: pytest.FixtureRequest) -> RedisServer | RedisClusterServers:
    """What replicas share: `redis_server`, or `redis_cluster` for a test parametrized with
    `@pytest.mark.parametrize("shared_redis", ["redis", "redis-cluster"], indirect=True)`."""
    kind = getattr(request, "param", "redis")
    shared: RedisServer | RedisClusterServers = request.getfixturevalue(
        "redis_cluster" if kind == "redis-cluster" else "redis_server"
    )
    return shared


@pytest.fixture
async def sim_factory() -> AsyncIterator[Callable[..., Awaitable[Simulator]]]:
    """Start simulators of the given providers (on `clock`, when given); stopped afterwards."""
    started: list[Simulator] = []

    async def start(*configs: SimProviderConfig, clock: Any = None) -> Simulator:
        sim = Simulator(configs, clock=clock)
        await sim.start()
        started.append(sim)
        return sim

    yield start
    for sim in started:
        await sim.stop()
