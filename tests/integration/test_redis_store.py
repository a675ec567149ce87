"""The state store's connection to a real Redis: a password, a user, a database and TLS
taken from the URL; scripts Redis forgot run again; a dropped connection replaced without an
outage; a Redis that hangs or refuses is an outage said once, and shares again once back."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from chain429.state_store.names import slot_keys
from chain429.state_store.redis_store import SCRIPTS, RedisStore
from tests.support.polling import eventually
from tests.support.redis_server import RedisServer, redis_server_path, self_signed

KEYS = slot_keys("p", "f00d")
UNAVAILABLE = "state store unavailable: serving on local state"
BACK = "state store reachable again: limits are shared again"


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Callable[..., object]]:
    """Starts a `RedisServer` of the given options; stopped after the test."""
    started: list[RedisServer] = []

    async def start(**options: object) -> RedisServer:
        directory = tmp_path / f"redis-{len(started)}"
        directory.mkdir()
        found = RedisServer(redis_server_path(), directory, **options)  # type: ignore[arg-type]
        await found.start()
        started.append(found)
        return found

    yield start
    for found in started:
        await found.stop()


@pytest.fixture
async def stores() -> AsyncIterator[list[RedisStore]]:
    """Stores a test opens, closed after it."""
    opened: list[RedisStore] = []
    yield opened
    for store in opened:
        await store.close()


async def opened(stores: list[RedisStore], url: str, **options: float) -> RedisStore:
    store = RedisStore(url, **options)
    stores.append(store)
    await store.start()
    return store


async def renewed(store: RedisStore) -> object:
    """The answer of one script run (RENEW of no lease: 1), None when Redis is away."""
    return await store.call("renew", KEYS, [1.0])


async def test_a_user_password_and_database_from_the_url_are_used(server, stores) -> None:
    redis = await server(user="gateway", password="s3cr&t")
    store = await opened(stores, redis.url.replace("/0", "/3"))

    assert store.available
    store.send("cool", KEYS, [1.0, "m", "model", 100.0, "rate limited", "0"])
    await store.flushed()
    client = redis.client()
    try:
        assert await client.keys() == []  # database 0 holds nothing
        await client.select(3)
        assert await client.keys() == [KEYS.state.encode()]
    finally:
        await client.aclose()


async def test_a_wrong_password_is_an_outage_said_once_not_a_crash(server, stores) -> None:
    redis = await server(password="right")
    with capture_logs() as logs:
        store = await opened(stores, redis.url.replace(":right@", ":wrong@"), retry_s=0.01)
        assert await renewed(store) is None

    assert not store.available
    warnings = [entry for entry in logs if entry["event"] == UNAVAILABLE]
    assert len(warnings) == 1
    assert "WRONGPASS" in warnings[0]["error"]


async def test_rediss_speaks_tls_checking_the_servers_certificate(
    server, stores, tmp_path, monkeypatch
) -> None:
    certificate = self_signed(tmp_path)
    redis = await server(certificate=certificate)
    assert redis.url.startswith("rediss://")

    untrusted = await opened(stores, redis.url, retry_s=60)
    assert not untrusted.available  # a certificate nobody vouches for is refused

    monkeypatch.setenv("SSL_CERT_FILE", str(certificate))  # trusted, as a private CA would be
    store = await opened(stores, redis.url)
    assert store.available
    assert await renewed(store) == 1


async def test_scripts_redis_forgot_run_again_by_their_text(redis_server, stores) -> None:
    store = await opened(stores, redis_server.url)
    client = redis_server.client()
    try:
        await client.script_flush()
        assert await renewed(store) == 1
        assert await client.script_exists(*map(_sha, SCRIPTS.values())) == [
            name == "renew" for name in SCRIPTS
        ]
    finally:
        await client.aclose()
    assert store.available


async def test_a_dropped_connection_is_replaced_without_an_outage(redis_server, stores) -> None:
    store = await opened(stores, redis_server.url)
    changes: list[bool] = []
    store.on_change(changes.append)
    client = redis_server.client()
    with capture_logs() as logs:
        try:
            assert await client.client_kill_filter(_type="normal", skipme=True) == 1
        finally:
            await client.aclose()
        await eventually(_answers(store), what="the store runs scripts again")

    assert store.available and changes == []
    assert [entry["event"] for entry in logs if entry["log_level"] == "warning"] == []


async def test_a_redis_that_hangs_is_an_outage_until_it_answers_again(redis_server, stores) -> None:
    store = await opened(stores, redis_server.url, timeout_s=0.2, retry_s=0.01)
    with capture_logs() as logs:
        redis_server.pause()
        try:
            waiting = asyncio.ensure_future(renewed(store))
            assert await waiting is None  # answered when the timeout ends the connection
            await eventually(lambda: not store.available, what="the outage is told")
            assert await renewed(store) is None  # answered at once while away
        finally:
            redis_server.resume()
        await eventually(lambda: store.available, what="shared again")

    assert await renewed(store) == 1
    events = [entry["event"] for entry in logs]
    assert events.count(UNAVAILABLE) == 1 and events.count(BACK) == 1


async def test_a_script_that_fails_is_answered_none_and_logged(redis_server, stores) -> None:
    store = await opened(stores, redis_server.url)
    with capture_logs() as logs:
        assert await store.call("renew", KEYS, ["not a number", "lease"]) is None
        assert await renewed(store) == 1  # the connection goes on

    (failure,) = [entry for entry in logs if entry["event"] == "state store script failed"]
    assert failure["script"] == "renew" and failure["log_level"] == "error"
    assert store.available


def _sha(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def _answers(store: RedisStore) -> Callable[[], object]:
    async def check() -> bool:
        return await renewed(store) == 1

    return check


async def test_a_server_that_is_not_redis_is_an_outage_not_a_crash(stores) -> None:
    async def answer_http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1)
        writer.write(b"HTTP/1.1 400 Bad Request\r\n\r\n")  # and stays connected
        await reader.read()  # until the client hangs up
        writer.close()
        await writer.wait_closed()

    web = await asyncio.start_server(answer_http, "127.0.0.1", 0)
    port = web.sockets[0].getsockname()[1]
    try:
        with capture_logs() as logs:
            store = await opened(stores, f"redis://127.0.0.1:{port}/0", retry_s=60)
    finally:
        web.close()
        await web.wait_closed()

    assert not store.available
    assert [entry["event"] for entry in logs].count(UNAVAILABLE) == 1


async def test_a_call_that_cannot_be_written_is_answered_none_and_logged(
    redis_server, stores
) -> None:
    store = await opened(stores, redis_server.url)
    with capture_logs() as logs:
        assert await store.call("no such script", KEYS, []) is None

    assert [entry["event"] for entry in logs] == ["state store batch failed"]
    assert await renewed(store) == 1
