"""`429chain serve` and the signals a service manager or a terminal sends it.

SIGTERM drains the requests in flight for at most `settings.shutdownGraceMs`, then cuts the rest
short: a non-stream client gets a 503, a stream already under way gets an error event, and both
are recorded as cut by shutdown; the process exits within 2 s after the grace. SIGHUP reloads the
config file: a valid one is applied live, a broken one is logged and the running config stays.
"""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path
from typing import Any

import aiohttp
import openai
import orjson
import pytest
from aiohttp import web

from tests.support.client import MESSAGES
from tests.support.polling import eventually
from tests.support.proxy import ADMIN_KEY, CLIENT_KEY, make_config
from tests.support.serve_process import ServeProcess, serving
from tests.support.upstream import Behaviour, gated, ok, slow_json, sse
from tests.support.usage_db import query, usage_settings

#: How long the slow upstream holds a call: far past any grace these tests give.
UPSTREAM_HOLD_S = 45.0
#: How long after the grace the process may take to exit.
EXIT_MARGIN_S = 2.0
#: Timeouts that leave the slow upstream alone, so that only the shutdown cuts its calls.
PATIENT = {"requestTimeoutMs": 60_000, "streamIdleTimeoutMs": 60_000}


def holding(behaviour_json: Behaviour, behaviour_stream: Behaviour) -> Behaviour:
    """`behaviour_json` for JSON requests, `behaviour_stream` for streams."""

    async def behaviour(request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        chosen = behaviour_stream if body.get("stream") else behaviour_json
        return await chosen(request, body)

    return behaviour


def sdk(proxy: ServeProcess) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(
        base_url=f"{proxy.url}/v1", api_key=CLIENT_KEY, max_retries=0, timeout=90
    )


async def stream_until_it_fails(client: openai.AsyncOpenAI, started: asyncio.Event) -> str:
    """Read a stream, setting `started` at its first chunk; the message of the error it ends
    with (the test fails if it ends cleanly)."""
    stream = await client.chat.completions.create(model="default", messages=MESSAGES, stream=True)
    try:
        async for _ in stream:
            started.set()
    except openai.APIError as exc:
        assert isinstance(exc.body, dict)
        assert exc.body["code"] == "shutdown"
        return exc.message
    raise AssertionError("the stream ended without an error event")


async def call_until_it_fails(client: openai.AsyncOpenAI) -> openai.APIStatusError:
    with pytest.raises(openai.APIStatusError) as caught:
        await client.chat.completions.create(model="default", messages=MESSAGES)
    return caught.value


@pytest.mark.timeout(60)
async def test_requests_still_running_at_the_grace_are_cut_answered_and_recorded(
    upstream_factory, tmp_path: Path
):
    upstream = await upstream_factory(holding(slow_json(UPSTREAM_HOLD_S), sse(hang_after=2)))
    db = tmp_path / "u.db"
    grace_s = 1.0
    settings = usage_settings(db, shutdownGraceMs=int(grace_s * 1000), **PATIENT)
    config = make_config([("a", upstream.base_url)], settings=settings)

    async with serving(config, tmp_path) as proxy, sdk(proxy) as client:
        streaming = asyncio.Event()
        stream = asyncio.ensure_future(stream_until_it_fails(client, streaming))
        whole = asyncio.ensure_future(call_until_it_fails(client))
        await eventually(lambda: upstream.calls == 2 and streaming.is_set(), timeout=10)
        signalled = time.monotonic()
        proxy.process.send_signal(signal.SIGTERM)
        assert await proxy.wait() == 0, proxy.output()
        took = time.monotonic() - signalled
        cut_whole, cut_stream = await whole, await stream

    assert grace_s <= took <= grace_s + EXIT_MARGIN_S, f"exited {took:.2f}s after SIGTERM"
    assert cut_whole.status_code == 503
    assert isinstance(cut_whole.body, dict) and cut_whole.body["code"] == "shutdown"
    assert "shutting down" in cut_whole.message
    assert "shutting down" in cut_stream
    rows = query(db, "SELECT * FROM requests ORDER BY streamed")
    assert [(r["streamed"], r["status"], r["error_class"], r["client_closed"]) for r in rows] == [
        (0, 503, "shutdown", 0),
        (1, 503, "shutdown", 0),
    ]
    assert [r["provider_id"] for r in rows] == [None, "a"], "the cut stream was being served"
    outcomes = query(db, "SELECT outcome FROM attempts")
    assert [a["outcome"] for a in outcomes] == ["shutdown", "shutdown"]
    assert "requests_drained=0" in proxy.output() and "requests_cut=2" in proxy.output()
    assert "records_flushed=2" in proxy.output()


async def test_a_request_that_finishes_within_the_grace_is_served(upstream_factory, tmp_path: Path):
    gate = asyncio.Event()
    upstream = await upstream_factory(gated(ok(), gate))
    db = tmp_path / "u.db"
    grace_s = 20.0
    settings = usage_settings(db, shutdownGraceMs=int(grace_s * 1000), **PATIENT)
    config = make_config([("a", upstream.base_url)], settings=settings)

    async with serving(config, tmp_path) as proxy, sdk(proxy) as client:
        whole = asyncio.ensure_future(
            client.chat.completions.create(model="default", messages=MESSAGES)
        )
        await eventually(lambda: upstream.calls == 1, timeout=10)
        signalled = time.monotonic()
        proxy.process.send_signal(signal.SIGTERM)
        await eventually(lambda: "shutting down" in proxy.output(), timeout=10)
        gate.set()
        answer = await whole
        assert await proxy.wait() == 0, proxy.output()
        took = time.monotonic() - signalled

    assert answer.choices[0].message.content == "hello"
    assert took < grace_s, "the drain ends when the last request does, not at the grace"
    rows = query(db, "SELECT status, error_class, provider_id FROM requests")
    assert rows == [{"status": 200, "error_class": None, "provider_id": "a"}]
    assert "requests_drained=1" in proxy.output() and "requests_cut=0" in proxy.output()


async def running_config(http: aiohttp.ClientSession, proxy: ServeProcess) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    async with http.get(f"{proxy.url}/api/config", headers=headers) as answer:
        assert answer.status == 200
        return dict(await answer.json())


async def test_sighup_reloads_the_config_file_and_a_broken_file_keeps_the_running_one(
    upstream_factory, http, tmp_path: Path
):
    upstream = await upstream_factory(ok())
    config = make_config([("a", upstream.base_url)], admin=True)

    async with serving(config, tmp_path) as proxy, sdk(proxy) as client:
        path = tmp_path / "serve.yaml"
        document = orjson.loads(path.read_bytes())
        document["settings"]["queueMode"] = True
        document["chains"].append({"name": "spare", "entries": [{"provider": "a", "model": "m"}]})
        path.write_bytes(orjson.dumps(document))
        proxy.process.send_signal(signal.SIGHUP)

        async def reloaded() -> bool:
            return bool((await running_config(http, proxy))["settings"]["queueMode"])

        await eventually(reloaded, timeout=10, what="the reloaded config")
        await eventually(lambda: "config reloaded" in proxy.output(), timeout=10)
        assert "chains_added=['spare']" in proxy.output()
        answer = await client.chat.completions.create(model="spare", messages=MESSAGES)
        assert upstream.received[-1]["model"] == "m" and answer.choices

        before = await running_config(http, proxy)
        document["chains"][0]["entries"][0]["model"] = ""
        path.write_bytes(orjson.dumps(document))
        proxy.process.send_signal(signal.SIGHUP)
        await eventually(lambda: "config not reloaded" in proxy.output(), timeout=10)
        assert "chains[0].entries[0].model" in proxy.output()
        assert await running_config(http, proxy) == before
        answer = await client.chat.completions.create(model="default", messages=MESSAGES)
        assert answer.choices[0].message.content == "hello"
        assert proxy.process.returncode is None
        assert await proxy.stop() == 0, proxy.output()
