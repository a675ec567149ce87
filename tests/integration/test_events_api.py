"""`GET /api/events` on a real proxy: requests and limit changes as they happen, a slow
consumer that skips ahead while the proxy serves on, disconnects and shutdowns that leave
nothing behind."""

from __future__ import annotations

import asyncio

import pytest

from chain429.app import AppOptions, EventOptions
from chain429.config.version import config_version
from chain429.event_hub import EventKind
from chain429.server import RunningServer
from chain429.state import STATE
from tests.support.client import chat
from tests.support.clock import FakeClock
from tests.support.events import Event, event_stream
from tests.support.polling import eventually
from tests.support.proxy import make_config
from tests.support.upstream import ok, reply
from tests.support.usage_db import logged_request, usage_settings

START = 1_800_000_000.0
LOG_ROW_FIELDS = {
    "id",
    "requestId",
    "timestamp",
    "endpoint",
    "chain",
    "requestedModel",
    "provider",
    "model",
    "keyLabel",
    "status",
    "streamed",
    "attemptCount",
    "promptTokens",
    "completionTokens",
    "totalTokens",
    "latencyMs",
    "ttftMs",
    "queuedMs",
    "errorClass",
    "clientClosed",
    "attempts",
}


def rate_limited():
    return reply(429, {"error": {"message": "Too many requests"}}, headers={"retry-after": "30"})


async def two_entries(upstream_factory, proxy_factory, options=None, **settings):
    """A proxy over `limited` (429 once, then healthy) in front of a healthy `backup`."""
    limited = await upstream_factory(rate_limited(), ok())
    backup = await upstream_factory(ok())
    config = make_config(
        [("limited", limited.base_url), ("backup", backup.base_url)], settings=settings
    )
    return await proxy_factory(config, options), config


def hub(server: RunningServer):
    return server.app[STATE].events


def is_request(event: Event) -> bool:
    return event.name == "request"


async def test_hello_names_the_versions_and_kinds(upstream_factory, proxy_factory, http):
    server, config = await two_entries(upstream_factory, proxy_factory)
    async with event_stream(http, server.url, "?kinds=limits,request") as stream:
        assert stream.hello is not None
        hello = stream.hello.data
        assert hello["configVersion"] == config_version(config)
        assert hello["kinds"] == ["request", "limits"]
        assert isinstance(hello["version"], str) and hello["lastId"] == 0
        assert stream.response.headers["Cache-Control"] == "no-cache"


async def test_a_request_through_the_proxy_is_a_request_event_with_its_attempts(
    upstream_factory, proxy_factory, http
):
    server, config = await two_entries(upstream_factory, proxy_factory)
    assert not config.settings.record_usage, "sent without usage recording too"
    async with event_stream(http, server.url, "?kinds=request") as stream:
        answer = await chat(http, server)
        assert answer.status == 200
        event, before = await stream.until(is_request)
    assert before == []
    row = event.data
    assert set(row) == LOG_ROW_FIELDS and event.id == 1
    assert row["requestId"] == answer.headers["X-Request-Id"]
    assert (row["chain"], row["provider"], row["status"], row["attemptCount"]) == (
        "default",
        "backup",
        200,
        2,
    )
    limited, served = row["attempts"]
    assert (limited["provider"], limited["outcome"], limited["status"]) == (
        "limited",
        "rate_limited",
        429,
    )
    assert limited["reason"] == "HTTP 429: Too many requests"
    assert (served["provider"], served["outcome"]) == ("backup", "served")


async def test_the_request_event_is_the_request_log_row_to_be(
    upstream_factory, proxy_factory, http, tmp_path
):
    server, _ = await two_entries(
        upstream_factory, proxy_factory, **usage_settings(tmp_path / "u.db")
    )
    async with event_stream(http, server.url) as stream:
        answer = await chat(http, server, stream=True)
        event, _ = await stream.until(is_request)
    logged = await logged_request(http, server.url, answer.headers["X-Request-Id"])
    assert event.data == {**logged, "id": None}


async def test_a_429_that_cools_an_entry_down_is_a_limits_event(
    upstream_factory, proxy_factory, http
):
    clock = FakeClock(START)
    options = AppOptions(clock=clock, events=EventOptions(limits_interval_s=1.0))
    server, _ = await two_entries(upstream_factory, proxy_factory, options)
    async with event_stream(http, server.url, "?kinds=limits") as stream:
        await eventually(lambda: clock.pending == 2, what="the heartbeat and the first reading")
        assert (await chat(http, server)).status == 200
        clock.advance(1)
        event = await stream.next()
    assert event.name == "limits" and event.id is not None
    (entry,) = event.data["entries"]
    assert (entry["provider"], entry["model"], entry["status"]) == (
        "limited",
        "limited-model",
        "exhausted",
    )
    assert entry["cooldownUntil"] == round((START + 30) * 1000)
    assert entry["reason"] == "HTTP 429: Too many requests"
    assert event.data["removed"] == []
    assert event.data["queue"] == {"depth": 0, "chains": {}}
    (chain,) = event.data["chains"]
    assert chain["next"] == {"provider": "backup", "model": "backup-model"}


async def test_the_cooldown_ending_is_a_limits_event_too(upstream_factory, proxy_factory, http):
    clock = FakeClock(START)
    server, _ = await two_entries(upstream_factory, proxy_factory, AppOptions(clock=clock))
    assert (await chat(http, server)).status == 200
    async with event_stream(http, server.url, "?kinds=limits") as stream:
        await eventually(lambda: clock.pending == 2, what="the heartbeat and the first reading")
        clock.advance(31)
        event = await stream.next()
    (entry,) = event.data["entries"]
    assert (entry["provider"], entry["status"], entry["cooldownUntil"]) == (
        "limited",
        "available",
        None,
    )


async def test_a_heartbeat_comment_on_the_clock(upstream_factory, proxy_factory, http):
    clock = FakeClock(START)
    options = AppOptions(clock=clock, events=EventOptions(heartbeat_s=15.0))
    server, _ = await two_entries(upstream_factory, proxy_factory, options)
    async with event_stream(http, server.url, "?kinds=config") as stream:
        clock.advance(15)
        beat = await stream.next()
        clock.advance(15)
        again = await stream.next()
    assert beat.name == again.name == "comment" and beat.raw == b": heartbeat\n\n"


async def test_a_slow_consumer_skips_ahead_within_its_buffer_while_the_proxy_serves(
    upstream_factory, proxy_factory, http
):
    buffer_size = 4
    options = AppOptions(events=EventOptions(buffer_size=buffer_size))
    server, _ = await two_entries(upstream_factory, proxy_factory, options)
    events = hub(server)
    filler = {"filler": "x" * 65_536}
    async with event_stream(http, server.url, "?kinds=request") as stream:
        (slow,) = events.subscriptions
        published = 0
        while slow.missed == 0:  # the client reads nothing: the socket fills, then the buffer
            assert published < 1_000, "the buffer never overflowed"
            events.publish(EventKind.REQUEST, filler)
            published += 1
            assert slow.pending <= buffer_size
            await asyncio.sleep(0)  # lets the handler write what the socket still takes
        for _ in range(buffer_size + 1):
            assert (await chat(http, server)).status == 200
            assert slow.pending <= buffer_size
        last = await chat(http, server)
        assert slow.pending <= buffer_size
        missed_total = slow.missed

        def is_last(event: Event) -> bool:
            return is_request(event) and event.data.get("requestId") == last.headers["X-Request-Id"]

        _, before = await stream.until(is_last, timeout=30)
    notices = [e for e in before if e.name == "missed"]
    assert notices and sum(e.data["missed"] for e in notices) == missed_total
    ids_seen = [e.id for e in before if e.id is not None]
    assert ids_seen == sorted(ids_seen), "in order, with gaps where events were dropped"


async def test_a_client_that_goes_away_leaves_no_subscriber_and_no_timer(
    upstream_factory, proxy_factory, http
):
    clock = FakeClock(START)
    server, _ = await two_entries(upstream_factory, proxy_factory, AppOptions(clock=clock))
    events = hub(server)
    async with event_stream(http, server.url) as stream:
        await eventually(lambda: clock.pending == 2, what="the heartbeat and the limit reading")
        assert events.subscribers == 1 and events.wants(EventKind.LIMITS)
        stream.response.close()
    await eventually(lambda: events.subscribers == 0, what="the subscriber gone")
    await eventually(lambda: clock.pending == 0, what="the heartbeat and the reading stopped")
    assert not events.wants(EventKind.REQUEST)
    assert (await chat(http, server)).status == 200


async def test_shutdown_ends_open_streams_cleanly_without_waiting_the_grace(
    upstream_factory, proxy_factory, http
):
    server, _ = await two_entries(upstream_factory, proxy_factory, shutdownGraceMs=600_000)
    async with event_stream(http, server.url) as first, event_stream(http, server.url) as second:
        assert (await chat(http, server)).status == 200
        await first.until(is_request)
        await second.until(is_request)
        await server.stop()
        assert await first.rest() == b"" and await second.rest() == b""
        assert first.response.content.at_eof() and second.response.content.at_eof()
    report = server.app[STATE].shutdown
    assert (report.requests_drained, report.requests_cut) == (0, 0)
    assert report.event_streams_closed == 2
    assert hub(server).subscribers == 0


@pytest.mark.parametrize(
    ("query", "param"),
    [("?kinds=request,nonsense", "kinds"), ("?kinds=hello", "kinds")],
)
async def test_an_unknown_kind_is_a_400_naming_kinds(
    upstream_factory, proxy_factory, http, query, param
):
    server, _ = await two_entries(upstream_factory, proxy_factory)
    answer = await http.get(
        f"{server.url}/api/events{query}", headers={"Authorization": "Bearer test-client-key-0001"}
    )
    assert answer.status == 400
    error = (await answer.json())["error"]
    assert (error["param"], error["code"], error["type"]) == (
        param,
        "invalid_value",
        "invalid_request_error",
    )


async def test_no_key_is_a_401(upstream_factory, proxy_factory, http):
    server, _ = await two_entries(upstream_factory, proxy_factory)
    async with http.get(f"{server.url}/api/events") as answer:
        assert answer.status == 401


async def test_more_streams_than_allowed_is_a_503(upstream_factory, proxy_factory, http):
    options = AppOptions(events=EventOptions(max_subscribers=1))
    server, _ = await two_entries(upstream_factory, proxy_factory, options)
    async with event_stream(http, server.url):
        answer = await http.get(
            f"{server.url}/api/events", headers={"Authorization": "Bearer test-client-key-0001"}
        )
        assert answer.status == 503
        assert (await answer.json())["error"]["code"] == "too_many"
    await eventually(lambda: hub(server).subscribers == 0, what="the first stream gone")
    async with event_stream(http, server.url):
        pass


async def test_a_stream_is_refused_once_the_shutdown_began(upstream_factory, proxy_factory, http):
    server, _ = await two_entries(upstream_factory, proxy_factory)
    hub(server).close()
    answer = await http.get(
        f"{server.url}/api/events", headers={"Authorization": "Bearer test-client-key-0001"}
    )
    assert answer.status == 503
    assert (await answer.json())["error"]["code"] == "shutdown"
