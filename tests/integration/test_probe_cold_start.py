"""Cold starts against the simulator, through the openai SDK: nothing is known of any entry, so
only probes go until their answers say what each entry allows (issue #13's targets)."""

from __future__ import annotations

import asyncio
from collections import Counter

import openai
import pytest

from chain429.app import AppOptions
from chain429.sim.config import Dialect, SimProviderConfig
from tests.support.clock import FakeClock
from tests.support.proxy import make_config
from tests.support.usage_db import logged_request, usage_settings
from tests.support.usage_records import MemorySink

MESSAGES = [{"role": "user", "content": "hi"}]
LATENCY = {"latency_ms": 300}


async def ask(client: openai.AsyncOpenAI, index: int) -> str:
    """One request, streamed for odd indexes, read to its end; the entry that served it."""
    if index % 2:
        raw = await client.chat.completions.with_raw_response.create(
            model="default", messages=MESSAGES, stream=True
        )
        async with raw.parse() as stream:
            text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    else:
        raw = await client.chat.completions.with_raw_response.create(
            model="default", messages=MESSAGES
        )
        text = raw.parse().choices[0].message.content or ""
    assert text
    return raw.headers["x-429chain-provider"].partition("/")[0]


async def burst(client: openai.AsyncOpenAI, size: int) -> Counter[str]:
    served = await asyncio.gather(*(ask(client, i) for i in range(size)))
    return Counter(served)


async def test_a_cold_burst_fills_each_entry_to_its_limit_without_one_429(
    sim_factory, proxy_factory, client_factory
):
    clock = FakeClock()
    sim = await sim_factory(
        SimProviderConfig(name="a", dialect=Dialect.OPENAI, requests_per_window=10, **LATENCY),
        SimProviderConfig(name="b", dialect=Dialect.GROQ, requests_per_window=10, **LATENCY),
        SimProviderConfig(name="c", dialect=Dialect.NONE),
        clock=clock,
    )
    config = make_config(
        [(name, sim.base_url(name)) for name in ("a", "b", "c")],
        provider_types={"a": "openai", "b": "groq"},
    )
    server = await proxy_factory(config, AppOptions(clock=clock, sink=MemorySink()))
    client = client_factory(server, timeout=30)

    served = await burst(client, 50)

    assert served == {"a": 10, "b": 10, "c": 30}
    for name, calls in (("a", 10), ("b", 10), ("c", 30)):
        stats = sim.stats(name)
        assert (stats["requests"], stats["rate_limited"]) == (calls, 0), name


@pytest.mark.parametrize("probes", [1, 3])
async def test_a_cold_burst_at_a_failing_entry_sends_it_only_its_probes(
    sim_factory, proxy_factory, client_factory, probes
):
    clock = FakeClock()
    sim = await sim_factory(
        SimProviderConfig(name="broken", dialect=Dialect.OPENAI, error_rate=1.0, **LATENCY),
        SimProviderConfig(name="c", dialect=Dialect.NONE),
        clock=clock,
    )
    config = make_config(
        [("broken", sim.base_url("broken")), ("c", sim.base_url("c"))],
        provider_types={"broken": "openai"},
        settings={"probeConcurrency": probes},
    )
    server = await proxy_factory(config, AppOptions(clock=clock, sink=MemorySink()))
    client = client_factory(server, timeout=30)

    served = await burst(client, 50)

    assert served == {"c": 50}
    assert sim.stats("broken")["requests"] == probes
    assert sim.stats("broken")["errors_5xx"] == probes


async def test_the_request_log_shows_how_long_each_attempt_waited(
    sim_factory, proxy_factory, client_factory, http, tmp_path
):
    sim = await sim_factory(
        SimProviderConfig(name="a", dialect=Dialect.OPENAI, requests_per_window=10, **LATENCY)
    )
    config = make_config(
        [("a", sim.base_url("a"))],
        provider_types={"a": "openai"},
        settings=usage_settings(tmp_path / "usage.db", probeWaitMs=30_000),
    )
    server = await proxy_factory(config)
    client = client_factory(server, timeout=30)
    answers = await asyncio.gather(
        *(
            client.chat.completions.with_raw_response.create(model="default", messages=MESSAGES)
            for _ in range(3)
        )
    )
    waits = []
    for answer in answers:
        row = await logged_request(http, server.url, answer.headers["x-request-id"])
        (attempt,) = row["attempts"]
        assert attempt["outcome"] == "served"
        waits.append(attempt["waitedMs"])
    assert waits.count(None) == 1, "the probe did not wait"
    assert all(w >= 250 for w in waits if w is not None), "the others waited for its answer"
