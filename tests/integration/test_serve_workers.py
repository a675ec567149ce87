"""`429chain serve --workers N`: N processes on one port sharing their limits through Redis.

Both workers serve (each connection is answered by one of them: `/health` names its pid), a
management change made through one reaches the other, their records go to one SQLite file,
SIGTERM to the supervisor drains them all and exits 0, a worker that dies stops the others
and the supervisor exits 1, and the memory store is refused with a line that says why.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp
import openai
import orjson
import pytest

from chain429.errors import StartupError
from chain429.workers import reserve_port
from tests.support.client import MESSAGES
from tests.support.polling import eventually
from tests.support.proxy import ADMIN_KEY, CLIENT_KEY, make_config
from tests.support.redis_server import RedisServer
from tests.support.serve_process import ServeProcess, config_document, serving
from tests.support.upstream import ok
from tests.support.usage_db import query, usage_settings

WORKERS = ["--workers", "2"]
_WORKER_LINE = re.compile(r"worker: +pid (\d+)")


async def answered_by(proxy: ServeProcess, path: str = "/v1/models") -> tuple[int, bytes]:
    """On one new connection: the pid `/health` names, then the body of `path` (the same
    worker answers both: a connection belongs to one process)."""
    connector = aiohttp.TCPConnector(limit=1)
    headers = {"Authorization": f"Bearer {CLIENT_KEY}"}
    async with aiohttp.ClientSession(connector=connector, headers=headers) as http:
        async with http.get(f"{proxy.url}/health") as health:
            pid = int((await health.json())["pid"])
        async with http.get(f"{proxy.url}{path}") as answer:
            return pid, await answer.read()


def worker_pids(proxy: ServeProcess) -> set[int]:
    return {int(pid) for pid in _WORKER_LINE.findall(proxy.output())}


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.timeout(90)
async def test_two_workers_serve_one_port_share_changes_and_stop_on_sigterm(
    upstream_factory, redis_server: RedisServer, tmp_path: Path
) -> None:
    upstream = await upstream_factory(ok())
    db = tmp_path / "u.db"
    settings = usage_settings(db, stateStore=redis_server.url)
    config = make_config([("a", upstream.base_url)], settings=settings, admin=True)

    async with serving(config, tmp_path, args=WORKERS) as proxy:
        pids = await eventually(lambda: len(worker_pids(proxy)) == 2 and worker_pids(proxy))
        assert proxy.process.pid not in pids, "the supervisor serves nothing itself"
        seen: set[int] = set()

        async def both_answered() -> bool:
            seen.add((await answered_by(proxy))[0])
            return seen == pids

        await eventually(both_answered, timeout=20, what="an answer from each worker")

        client = openai.AsyncOpenAI(base_url=f"{proxy.url}/v1", api_key=CLIENT_KEY, max_retries=0)
        async with client:
            for _ in range(6):
                reply = await client.chat.completions.create(model="default", messages=MESSAGES)
                assert reply.choices[0].message.content == "hello"

        async with aiohttp.ClientSession() as http:
            body = {"name": "fresh", "entries": [{"provider": "a", "model": "m"}]}
            headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
            async with http.post(f"{proxy.url}/api/chains", json=body, headers=headers) as made:
                assert made.status == 201, await made.text()
        knowing: set[int] = set()

        async def every_worker_knows_the_chain() -> bool:
            pid, models = await answered_by(proxy)
            if "fresh" in [m["id"] for m in orjson.loads(models)["data"]]:
                knowing.add(pid)
            return knowing == pids

        await eventually(every_worker_knows_the_chain, timeout=20, what="the chain everywhere")

        assert await proxy.stop(signal.SIGTERM) == 0, proxy.output()

    assert not [pid for pid in pids if alive(pid)]
    assert query(db, "SELECT count(*) AS n FROM requests") == [{"n": 6}]
    assert proxy.output().count("shutdown complete") == 2


@pytest.mark.timeout(90)
async def test_a_worker_that_dies_stops_the_others_and_the_supervisor_exits_1(
    upstream_factory, redis_server: RedisServer, tmp_path: Path
) -> None:
    upstream = await upstream_factory(ok())
    config = make_config([("a", upstream.base_url)], settings={"stateStore": redis_server.url})

    async with serving(config, tmp_path, args=WORKERS) as proxy:
        pids = await eventually(lambda: len(worker_pids(proxy)) == 2 and worker_pids(proxy))
        doomed, other = sorted(pids)
        os.kill(doomed, signal.SIGKILL)

        assert await proxy.wait() == 1, proxy.output()

    assert not alive(other)
    assert "a worker exited: stopping the others" in proxy.output()


def test_more_than_one_worker_with_the_memory_store_is_refused(tmp_path: Path) -> None:
    config = make_config([("a", "http://127.0.0.1:9/v1")])
    path = tmp_path / "c.yaml"
    path.write_bytes(orjson.dumps(config_document(config)))

    done = subprocess.run(
        [sys.executable, "-m", "chain429", "serve", "--config", str(path), *WORKERS],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stderr.splitlines() == [
        "cannot start: --workers 2 needs a shared limit state: with the memory store each "
        "worker would keep its own limits, and together they would send more than a limit "
        "allows; set settings.stateStore to a redis:// URL (settings.stateStore)"
    ]


def test_the_supervisor_reserves_a_real_port_that_workers_can_share() -> None:
    with reserve_port("127.0.0.1", 0) as reserved:
        port = reserved.getsockname()[1]
        assert port != 0
        with socket.socket() as worker:
            worker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            worker.bind(("127.0.0.1", port))
            worker.listen()


def test_a_port_another_program_holds_is_refused_by_the_supervisor() -> None:
    with socket.create_server(("127.0.0.1", 0)) as holder:
        port = holder.getsockname()[1]
        with pytest.raises(StartupError, match=f"port {port} on 127.0.0.1 is already in use"):
            reserve_port("127.0.0.1", port)


@pytest.mark.timeout(90)
async def test_a_reload_through_the_api_reaches_every_worker(
    upstream_factory, redis_server: RedisServer, tmp_path: Path
) -> None:
    upstream = await upstream_factory(ok())
    config = make_config(
        [("a", upstream.base_url)], settings={"stateStore": redis_server.url}, admin=True
    )

    async with serving(config, tmp_path, args=WORKERS) as proxy:
        pids = await eventually(lambda: len(worker_pids(proxy)) == 2 and worker_pids(proxy))
        path = tmp_path / "serve.yaml"
        document = orjson.loads(path.read_bytes())
        document["chains"].append({"name": "edited", "entries": [{"provider": "a", "model": "m"}]})
        edited = orjson.dumps(document)
        path.write_bytes(edited)
        async with aiohttp.ClientSession() as http:
            headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
            async with http.post(f"{proxy.url}/api/config/reload", headers=headers) as done:
                assert done.status == 200, await done.text()
        knowing: set[int] = set()

        async def every_worker_knows_the_chain() -> bool:
            pid, models = await answered_by(proxy)
            if "edited" in [m["id"] for m in orjson.loads(models)["data"]]:
                knowing.add(pid)
            return knowing == pids

        await eventually(every_worker_knows_the_chain, timeout=20, what="the chain everywhere")
        assert path.read_bytes() == edited  # a reload writes no file, on no worker
        assert proxy.output().count("config taken from another replica") == 1

        assert await proxy.stop(signal.SIGTERM) == 0, proxy.output()
