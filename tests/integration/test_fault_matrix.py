"""The fault matrix (`tests.support.faults.FAULTS`): for each upstream fault, plain and streamed,
the openai SDK sees the row's one outcome, within a deadline: the next entry's answer, this
entry's whole answer, or an `APIError` it raises. Never a hang, a silently truncated 200, or a
500 of our own."""

from __future__ import annotations

import asyncio
import time

import openai
import pytest

from chain429.app import AppOptions
from chain429.server import RunningServer
from chain429.state import STATE
from tests.support.client import MESSAGES
from tests.support.faults import (
    ENORMOUS_TEXT,
    FAULTS,
    MAX_COOLDOWN_MS,
    MAX_RESPONSE_BYTES,
    REQUEST_TIMEOUT_MS,
    STREAM_IDLE_TIMEOUT_MS,
    Expect,
    Fault,
)
from tests.support.polling import eventually
from tests.support.proxy import make_config
from tests.support.upstream import closed_port_url, ok
from tests.support.usage_records import MemorySink

#: No row may take longer than this (the slowest waits out `REQUEST_TIMEOUT_MS` once).
DEADLINE_S = 10.0

NORMAL_TEXT = "Hello"


async def ask(client: openai.AsyncOpenAI, stream: bool) -> tuple[str, str]:
    """(the serving provider, the whole text) of one request, as the SDK hands them over."""
    if not stream:
        raw = await client.chat.completions.with_raw_response.create(
            model="default", messages=MESSAGES
        )
        completion = raw.parse()
        return raw.headers["x-429chain-provider"], completion.choices[0].message.content or ""
    async with client.chat.completions.with_streaming_response.create(
        model="default", messages=MESSAGES, stream=True
    ) as response:
        provider = response.headers["x-429chain-provider"]
        parts = [
            p.choices[0].delta.content or "" async for p in await response.parse() if p.choices
        ]
    return provider, "".join(parts)


def nothing_in_flight(server: RunningServer) -> bool:
    tracker = server.app[STATE].tracker
    return all(state.in_flight == 0 for _, state in tracker.model_states())


def latest_bench(server: RunningServer) -> float:
    """Until when, at the latest, anything the upstreams said benches an entry or key."""
    tracker = server.app[STATE].tracker
    times = [0.0]
    for _, state in tracker.model_states():
        times.append(state.cooldown_until)
        times += [w.reset_at or 0.0 for w in state.windows.values()]
    for _, key in tracker.key_states():
        times += [key.cooldown_until, key.free_cooldown_until, key.credit_until]
        times += [w.reset_at or 0.0 for w in key.windows.values()]
    return max(times)


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
async def test_fault(upstream_factory, proxy_factory, client_factory, fault: Fault, stream: bool):
    behaviour = fault.make(stream)
    faulty_url = (
        closed_port_url() if behaviour is None else (await upstream_factory(behaviour)).base_url
    )
    healthy = await upstream_factory(ok("from b"))
    config = make_config(
        [("a", faulty_url), ("b", healthy.base_url)],
        settings={
            "requestTimeoutMs": REQUEST_TIMEOUT_MS,
            "streamIdleTimeoutMs": STREAM_IDLE_TIMEOUT_MS,
            "maxCooldownMs": MAX_COOLDOWN_MS,
            "maxResponseBytes": MAX_RESPONSE_BYTES,
        },
    )
    sink = MemorySink()
    server = await proxy_factory(config, AppOptions(sink=sink))
    client = client_factory(server)
    expect = fault.expect(stream)
    async with asyncio.timeout(DEADLINE_S):
        if expect is Expect.FALLS_THROUGH:
            provider, text = await ask(client, stream)
            assert (provider.partition("/")[0], text) == ("b", "from b")
        elif expect is Expect.SERVED:
            provider, text = await ask(client, stream)
            assert provider.partition("/")[0] == "a"
            assert text in (NORMAL_TEXT, ENORMOUS_TEXT)
            assert healthy.calls == 0
        else:
            with pytest.raises(openai.APIError) as caught:
                await ask(client, stream)
            assert not isinstance(caught.value, openai.APIStatusError), (
                "a committed stream is a 200"
            )
            assert isinstance(caught.value.body, dict)
            if expect is Expect.STREAM_FAILED:
                assert caught.value.body["code"] == "upstream_stream_failed"
            else:
                assert "upstream overloaded" in caught.value.message
            assert healthy.calls == 0, "a committed stream is never retried elsewhere"
    await eventually(lambda: nothing_in_flight(server), what="the reservation given back")
    assert latest_bench(server) <= time.time() + MAX_COOLDOWN_MS / 1000
    await eventually(lambda: sink.records, what="the usage record")
    (record,) = sink.records
    assert record.attempts[0].provider_id == "a"
    assert record.attempts[0].outcome is fault.outcome(stream), record.attempts[0].reason
