"""`apply_config` on a running proxy, seen by the official `openai` SDK: a new chain serves at
once, a removed one is an unknown model, a stream in flight finishes on the config it began
with, a changed key starts fresh while unchanged entries keep their cooldowns, `/v1/models`,
`/health`, the limit views and the metric labels follow, and a key added live is redacted."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Iterator
from typing import Any

import openai
import orjson
import pytest
import structlog

from chain429.app import AppOptions
from chain429.config.schema import Config
from chain429.logs import configure_logging
from chain429.outcome import Outcome
from chain429.reconfigure import apply_config
from chain429.server import RunningServer
from chain429.state import STATE
from tests.support.client import send
from tests.support.clock import FakeClock
from tests.support.leaky_upstream import echo_error
from tests.support.polling import eventually
from tests.support.proxy import PROVIDER_KEY, make_config
from tests.support.upstream import ok, reply, sse, standard_events
from tests.support.usage_records import MemorySink

MESSAGES = [{"role": "user", "content": "hi"}]


def served_by(raw: Any) -> str:
    return raw.headers["x-429chain-provider"]


def apply(server: RunningServer, config: Config) -> None:
    apply_config(server.app[STATE], config)


async def chat(client: openai.AsyncOpenAI, model: str) -> Any:
    return await client.chat.completions.with_raw_response.create(model=model, messages=MESSAGES)


async def test_a_new_chain_serves_at_once_and_a_removed_one_is_an_unknown_model(
    upstream_factory, proxy_factory, client_factory, http
):
    a, b = await upstream_factory(ok("from a")), await upstream_factory(ok("from b"))
    upstreams = [("a", a.base_url), ("b", b.base_url)]
    before = make_config(upstreams, chain=[("a", "a-model")])
    after = make_config(upstreams, chain=[("a", "a-model")], extra_chains={"fresh": [("b", "m")]})
    server = await proxy_factory(before, AppOptions(FakeClock()))
    client = client_factory(server)
    assert served_by(await chat(client, "fresh")) == "a/a-model", "unknown: the default chain"

    apply(server, after)

    assert served_by(await chat(client, "fresh")) == "b/m"
    assert [m.id async for m in client.models.list()] == ["default", "fresh", "a/a-model", "b/m"]
    assert (await client.models.retrieve("fresh")).id == "fresh"
    health = (await send(http, server, "/health", method="GET")).json()
    assert (health["providers"], health["chains"]) == (2, 2)
    limits = (await send(http, server, "/v1/ratelimits", method="GET")).json()
    assert {(r["provider"], r["model"]) for r in limits["ratelimits"]} == {
        ("a", "a-model"),
        ("b", "m"),
    }

    async def counted_as_fresh() -> bool:
        text = (await send(http, server, "/metrics", method="GET")).body.decode()
        return 'chain429_requests_total{chain="fresh",model="m",provider="b"' in text

    await eventually(counted_as_fresh, what="a metric labelled with the new chain")

    apply(server, before)

    assert served_by(await chat(client, "fresh")) == "a/a-model"
    assert [m.id async for m in client.models.list()] == ["default", "a/a-model"]
    with pytest.raises(openai.NotFoundError):
        await client.models.retrieve("fresh")
    strict = make_config(upstreams, chain=[("a", "a-model")], settings={"strictModels": True})
    apply(server, strict)
    with pytest.raises(openai.NotFoundError) as refused:
        await chat(client, "fresh")
    assert refused.value.body["code"] == "model_not_found"


async def test_a_stream_in_flight_finishes_on_the_config_it_started_with(
    upstream_factory, proxy_factory, client_factory
):
    gate = asyncio.Event()
    old = await upstream_factory(sse(standard_events(["Hel", "lo"]), gate=gate, gate_after=2))
    new = await upstream_factory(ok("new"))
    sink = MemorySink()
    server = await proxy_factory(
        make_config([("old", old.base_url)], extra_chains={"gone": [("old", "old-model")]}),
        AppOptions(FakeClock(), sink=sink),
    )
    client = client_factory(server)
    request = client.chat.completions.with_streaming_response.create(
        model="gone", messages=MESSAGES, stream=True
    )
    async with request as response:
        lines = response.iter_lines()
        async for line in lines:
            if "Hel" in line:
                break
        apply(server, make_config([("new", new.base_url)]))  # `old` and `gone` are removed
        gate.set()
        rest = [line async for line in lines]

    data = [line.removeprefix("data: ") for line in rest if line.startswith("data: ")]
    assert data[-1] == "[DONE]"
    finishes = [
        c["choices"][0]["finish_reason"] for c in map(orjson.loads, data[:-1]) if c["choices"]
    ]
    assert finishes[-1] == "stop"
    assert served_by(await chat(client, "gone")) == "new/new-model"
    await eventually(lambda: len(sink.records) == 2, what="both records")
    first = sink.records[0]
    assert (first.chain, first.provider_id, first.status) == ("gone", "old", 200)


async def test_a_changed_key_starts_fresh_while_unchanged_entries_keep_their_cooldowns(
    upstream_factory, proxy_factory, client_factory
):
    limited = reply(429, {"error": {"message": "slow down"}}, headers={"retry-after": "60"})
    bad_key = reply(401, {"error": {"message": "invalid api key"}})
    a = await upstream_factory(limited, ok("from a"))
    b = await upstream_factory(bad_key, ok("from b"))
    c = await upstream_factory(ok("from c"))
    fallback = await upstream_factory(ok("fallback"))
    upstreams = [("a", a.base_url), ("b", b.base_url), ("c", c.base_url), ("f", fallback.base_url)]
    clock = FakeClock()
    server = await proxy_factory(make_config(upstreams), AppOptions(clock))
    client = client_factory(server)
    assert served_by(await chat(client, "default")) == "c/c-model"  # a cools, b is set aside
    c.script[:] = [limited]  # c answers 429 from now on: it cools down too
    assert served_by(await chat(client, "default")) == "f/f-model"
    assert (a.calls, b.calls, c.calls) == (1, 1, 2)

    new_keys = {
        "a": {"apiKey": "sk-a-rotated-key-000111"},
        "b": {"apiKey": "sk-b-fixed-key-000222"},
    }
    apply(server, make_config(upstreams, provider_extra=new_keys))

    assert served_by(await chat(client, "default")) == "a/a-model"
    assert a.headers_seen[-1]["Authorization"] == "Bearer sk-a-rotated-key-000111"
    assert served_by(await chat(client, "default")) == "a/a-model"
    state = server.app[STATE]
    b_provider, c_provider = state.config.provider("b"), state.config.provider("c")
    assert state.tracker.available_at(b_provider, "b-model") == clock.now(), "b: back"
    assert state.tracker.available_at(c_provider, "c-model") == clock.now() + 60, "c: kept"
    assert c.calls == 2


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield io.StringIO()
    structlog.reset_defaults()
    root.handlers[:] = handlers
    root.setLevel(level)


async def test_a_key_added_live_is_redacted_in_log_lines_and_records(
    upstream_factory, proxy_factory, client_factory, log_output
):
    added_key = "added-live-key-0123456789abcdef"
    secrets = configure_logging("info", "console", [PROVIDER_KEY], stream=log_output)
    echo = await upstream_factory(echo_error(500))
    fallback = await upstream_factory(ok())
    sink = MemorySink()
    before = make_config([("f", fallback.base_url)])
    server = await proxy_factory(before, AppOptions(FakeClock(), sink=sink, log_secrets=secrets))
    structlog.get_logger("test").info("before the change", key=added_key)

    upstreams = [("echo", echo.base_url), ("f", fallback.base_url)]
    apply(server, make_config(upstreams, provider_extra={"echo": {"apiKey": added_key}}))
    await chat(client_factory(server), "default")
    structlog.get_logger("test").info("after the change", key=added_key)

    before_line, *rest = log_output.getvalue().splitlines()
    assert added_key in before_line, "not a secret yet"
    assert any("after the change" in line for line in rest)
    assert all(added_key[:8] not in line for line in rest), rest
    await eventually(lambda: sink.records, what="the record")
    [echoed] = [a for a in sink.records[0].attempts if a.provider_id == "echo"]
    assert echoed.outcome is Outcome.SERVER_ERROR and "[redacted]" in echoed.reason
    assert added_key[:8] not in echoed.reason


async def test_queue_mode_turned_off_sends_the_waiters_their_answer_and_on_again_queues(
    upstream_factory, proxy_factory, client_factory
):
    limited = reply(429, {"error": {"message": "slow down"}}, headers={"retry-after": "60"})
    upstream = await upstream_factory(ok(), limited, ok())
    clock = FakeClock()
    queued = {"queueMode": True, "queueMaxWaitMs": 300_000}
    server = await proxy_factory(
        make_config([("one", upstream.base_url)], settings=queued), AppOptions(clock)
    )
    client = client_factory(server)
    waterfall = server.app[STATE].waterfall
    await chat(client, "default")
    waiting = asyncio.ensure_future(chat(client, "default"))  # a 429: it waits for a minute
    await eventually(lambda: waterfall.queues.depths() == {"default": 1}, what="in line")

    apply(server, make_config([("one", upstream.base_url)]))

    with pytest.raises(openai.RateLimitError):
        await asyncio.wait_for(waiting, 5)
    assert waterfall.queues is None and upstream.calls == 2, "one last walk: still cooling"
    with pytest.raises(openai.RateLimitError):
        await chat(client, "default")

    apply(server, make_config([("one", upstream.base_url)], settings=queued))
    waiting = asyncio.ensure_future(chat(client, "default"))
    await eventually(lambda: waterfall.queues.depths() == {"default": 1}, what="in line again")
    clock.advance(61)
    assert served_by(await asyncio.wait_for(waiting, 5)) == "one/one-model"


async def test_a_setting_read_at_startup_is_reported_and_logged_as_needing_a_restart(
    upstream_factory, proxy_factory, log_output
):
    configure_logging("info", "json", [PROVIDER_KEY], stream=log_output)
    upstream = await upstream_factory(ok())
    server = await proxy_factory(make_config([("a", upstream.base_url)]), AppOptions(FakeClock()))

    changed = {"port": 4321, "queueMode": True}
    applied = apply_config(
        server.app[STATE], make_config([("a", upstream.base_url)], settings=changed)
    )

    assert applied.settings_changed == ("settings.port", "settings.queueMode")
    assert applied.restart_required == ("settings.port",)
    lines = [orjson.loads(line) for line in log_output.getvalue().splitlines()]
    [warning] = [line for line in lines if line["level"] == "warning"]
    assert warning["event"] == "config change needs a restart"
    assert warning["settings"] == ["settings.port"]
    assert server.app[STATE].waterfall.queues is not None, "queue mode is on at once"
