"""Every request that reaches the waterfall ends in exactly one usage record, whatever happened,
including the client going away; attempts say what each entry did, without secrets."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from chain429.app import AppOptions
from chain429.outcome import Outcome
from chain429.tasks import create_task
from chain429.usage.records import MemorySink, RequestRecord
from tests.support.client import chat
from tests.support.clock import FakeClock
from tests.support.polling import eventually
from tests.support.proxy import CLIENT_KEY, PROVIDER_KEY, make_config
from tests.support.upstream import hang, ok, reply, sse


async def one_record(sink: MemorySink) -> RequestRecord:
    """The single record of the request, once the handler has finished unwinding."""
    await eventually(lambda: sink.records, what="a usage record")
    assert len(sink.records) == 1, sink.records
    return sink.records.pop()


async def test_served_after_a_fall_through(upstream_factory, proxy_factory, http):
    a = await upstream_factory(
        reply(429, {"error": {"message": f"limit for {PROVIDER_KEY}"}}, {"retry-after": "9"})
    )
    b = await upstream_factory(ok())
    sink = MemorySink()
    config = make_config([("a", a.base_url), ("b", b.base_url)])
    server = await proxy_factory(config, AppOptions(clock=FakeClock(), sink=sink))
    assert (await chat(http, server, model="whatever")).status == 200
    record = await one_record(sink)
    assert (record.status, record.provider_id, record.model) == (200, "b", "b-model")
    assert (record.chain, record.requested_model, record.endpoint) == (
        "default",
        "whatever",
        "/chat/completions",
    )
    assert record.streamed is False and record.client_closed is False
    assert record.error_class is None
    assert (record.prompt_tokens, record.completion_tokens, record.total_tokens) == (5, 1, 6)
    first, second = record.attempts
    assert (first.provider_id, first.outcome, first.status) == ("a", Outcome.RATE_LIMITED, 429)
    assert PROVIDER_KEY not in first.reason and PROVIDER_KEY[-8:] not in first.reason
    assert (second.provider_id, second.outcome, second.status) == ("b", Outcome.SERVED, 200)
    assert second.key_label == "…" + PROVIDER_KEY[-4:]

    assert (await chat(http, server)).status == 200
    record = await one_record(sink)
    assert [a.outcome for a in record.attempts] == [Outcome.SKIPPED, Outcome.SERVED]


async def test_stream_records_usage_the_client_did_not_ask_for(
    upstream_factory, proxy_factory, http
):
    a = await upstream_factory(sse())
    sink = MemorySink()
    server = await proxy_factory(make_config([("a", a.base_url)]), AppOptions(sink=sink))
    answer = await chat(http, server, stream=True)
    assert all("usage" not in c for c in answer.chunks())
    record = await one_record(sink)
    assert record.streamed is True and record.status == 200
    assert record.total_tokens == 7
    assert record.ttft_ms is not None and record.ttft_ms <= record.latency_ms


@pytest.mark.parametrize(
    ("status", "error_class", "outcome"),
    [
        (429, "all_entries_unavailable", Outcome.RATE_LIMITED),
        (503, "all_entries_failing", Outcome.SERVER_ERROR),
    ],
)
async def test_all_entries_unavailable(
    upstream_factory, proxy_factory, http, status, error_class, outcome
):
    a = await upstream_factory(reply(status, {"error": {"message": "down"}}))
    sink = MemorySink()
    config = make_config([("a", a.base_url)])
    server = await proxy_factory(config, AppOptions(clock=FakeClock(), sink=sink))
    assert (await chat(http, server)).status == status
    record = await one_record(sink)
    assert (record.status, record.error_class, record.provider_id) == (status, error_class, None)
    assert [a.outcome for a in record.attempts] == [outcome]


async def test_mid_stream_failure_is_recorded(upstream_factory, proxy_factory, http):
    a = await upstream_factory(sse(drop_after=2))
    sink = MemorySink()
    server = await proxy_factory(make_config([("a", a.base_url)]), AppOptions(sink=sink))
    await chat(http, server, stream=True)
    record = await one_record(sink)
    assert record.status == 200
    assert record.error_class == Outcome.MID_STREAM_FAILURE.value
    assert record.attempts[-1].outcome is Outcome.MID_STREAM_FAILURE


async def test_bad_requests_never_reach_the_waterfall(upstream_factory, proxy_factory, http):
    a = await upstream_factory(ok())
    sink = MemorySink()
    server = await proxy_factory(make_config([("a", a.base_url)]), AppOptions(sink=sink))
    assert (await chat(http, server, messages="no")).status == 400
    assert sink.records == []


async def test_client_closed_before_an_answer(upstream_factory, proxy_factory):
    a = await upstream_factory(hang())
    sink = MemorySink()
    server = await proxy_factory(make_config([("a", a.base_url)]), AppOptions(sink=sink))
    async with aiohttp.ClientSession() as session:
        pending = create_task(chat(session, server), name="client")
        await a.request_seen.wait()
        pending.cancel()
    record = await one_record(sink)
    assert (record.status, record.error_class, record.client_closed) == (
        499,
        "client_closed",
        True,
    )
    assert [a.outcome for a in record.attempts] == [Outcome.CLIENT_CLOSED]


async def test_client_closed_mid_stream(upstream_factory, proxy_factory):
    gate = asyncio.Event()
    a = await upstream_factory(sse(gate=gate, gate_after=2))
    sink = MemorySink()
    server = await proxy_factory(make_config([("a", a.base_url)]), AppOptions(sink=sink))
    async with aiohttp.ClientSession() as session:
        response = await session.post(
            f"{server.url}/v1/chat/completions",
            json={
                "model": "default",
                "messages": [{"role": "user", "content": "x"}],
                "stream": True,
            },
            headers={"Authorization": f"Bearer {CLIENT_KEY}"},
        )
        await response.content.readuntil(b"\n\n")
        response.close()
    record = await one_record(sink)
    assert record.status == 499 and record.client_closed is True
    assert record.provider_id == "a"
