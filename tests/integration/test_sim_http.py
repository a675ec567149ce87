"""The simulator over real loopback HTTP, driven by an aiohttp client."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson
import pytest
from multidict import CIMultiDict

from chain429.sim import Dialect, SimProviderConfig, Simulator, key_fingerprint
from tests.support.clock import FakeClock
from tests.support.polling import eventually

START = 1_800_000_000.0  # 08:00:00 UTC
CHAT: dict[str, Any] = {"model": "m1", "messages": [{"role": "user", "content": "hello there!"}]}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
async def sim(clock: FakeClock) -> AsyncIterator[Simulator]:
    simulator = Simulator(
        [
            SimProviderConfig(name="groqsim", dialect=Dialect.GROQ, requests_per_window=2),
            SimProviderConfig(name="cerebrassim", dialect=Dialect.CEREBRAS, requests_per_day=1),
            SimProviderConfig(name="orsim", dialect=Dialect.OPENROUTER, requests_per_day=1),
            SimProviderConfig(name="gemsim", dialect=Dialect.NONE, requests_per_window=1),
        ],
        clock=clock,
    )
    await simulator.start()
    yield simulator
    await simulator.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def post(
    http: aiohttp.ClientSession, url: str, body: Any
) -> tuple[int, CIMultiDict[str], bytes]:
    async with http.post(url, json=body) as response:
        return response.status, response.headers.copy(), await response.read()


def sse_payloads(raw: bytes) -> list[Any]:
    events = [e for e in raw.split(b"\n\n") if e]
    assert all(e.startswith(b"data: ") for e in events)
    return [e[6:].decode() if e == b"data: [DONE]" else orjson.loads(e[6:]) for e in events]


async def test_base_urls_share_one_port(sim: Simulator) -> None:
    assert sim.base_url("groqsim") == f"http://127.0.0.1:{sim.port}/groqsim/v1"
    assert sim.base_url("orsim") == f"http://127.0.0.1:{sim.port}/orsim/v1"


async def test_chat_completion_shape_and_provider_tag(sim: Simulator, http) -> None:
    url = sim.base_url("groqsim") + "/chat/completions"
    status, headers, raw = await post(http, url, {**CHAT, "max_tokens": 4})
    body = orjson.loads(raw)
    assert status == 200
    assert headers["x-sim-provider"] == "groqsim"
    assert body["object"] == "chat.completion"
    assert body["model"] == "m1"
    assert body["created"] == int(START)
    assert body["choices"][0]["message"]["content"].startswith("[groqsim] ")
    assert body["choices"][0]["finish_reason"] == "length"
    assert body["usage"] == {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}


async def test_stream_with_include_usage(sim: Simulator, http) -> None:
    url = sim.base_url("groqsim") + "/chat/completions"
    request = {**CHAT, "stream": True, "stream_options": {"include_usage": True}}
    status, headers, raw = await post(http, url, request)
    assert status == 200
    assert headers["content-type"].startswith("text/event-stream")
    events = sse_payloads(raw)
    assert events[-1] == "[DONE]"
    assert events[0]["choices"][0]["delta"]["role"] == "assistant"
    assert events[-3]["choices"][0]["finish_reason"] == "stop"
    assert events[-2]["choices"] == []
    assert events[-2]["usage"]["completion_tokens"] == 12


async def test_legacy_completions_and_models(sim: Simulator, http) -> None:
    base = sim.base_url("cerebrassim")
    status, _, raw = await post(http, base + "/completions", {"model": "m2", "prompt": "abcdefgh"})
    body = orjson.loads(raw)
    assert (status, body["object"], body["model"]) == (200, "text_completion", "m2")
    assert body["choices"][0]["text"].startswith("[cerebrassim]")
    assert body["usage"]["prompt_tokens"] == 2
    async with http.get(base + "/models") as response:
        models = await response.json()
    assert [m["id"] for m in models["data"]] == ["sim-small", "sim-large"]


async def test_groq_429_after_the_window_with_true_headers(sim: Simulator, clock, http) -> None:
    url = sim.base_url("groqsim") + "/chat/completions"
    first = await post(http, url, CHAT)
    assert first[1]["x-ratelimit-remaining-requests"] == "1"
    assert first[1]["x-ratelimit-reset-requests"] == "1m0s"
    await post(http, url, CHAT)
    clock.advance(30.5)
    status, headers, raw = await post(http, url, CHAT)
    assert status == 429
    assert headers["retry-after"] == "30"
    assert headers["x-ratelimit-limit-requests"] == "2"
    assert headers["x-ratelimit-remaining-requests"] == "0"
    assert headers["x-ratelimit-reset-requests"] == "29.5s"
    assert orjson.loads(raw)["error"]["code"] == "rate_limit_exceeded"
    clock.advance(29.5)
    assert (await post(http, url, CHAT))[0] == 200


async def test_cerebras_daily_429(sim: Simulator, http) -> None:
    url = sim.base_url("cerebrassim") + "/chat/completions"
    assert (await post(http, url, CHAT))[1]["x-ratelimit-remaining-requests-day"] == "0"
    status, headers, _ = await post(http, url, CHAT)
    assert status == 429
    assert headers["x-ratelimit-reset-requests-day"] == f"{16 * 3600:.2f}"
    assert headers["retry-after"] == str(16 * 3600)


async def test_openrouter_daily_429_names_the_daily_cap(sim: Simulator, http) -> None:
    url = sim.base_url("orsim") + "/chat/completions"
    await post(http, url, CHAT)
    status, headers, raw = await post(http, url, CHAT)
    midnight_ms = int((START + 16 * 3600) * 1000)
    assert status == 429
    assert headers["X-RateLimit-Reset"] == str(midnight_ms)
    assert headers["X-RateLimit-Remaining"] == "0"
    assert "free-models-per-day" in orjson.loads(raw)["error"]["message"]


async def test_none_dialect_and_gemini_body(sim: Simulator, clock, http) -> None:
    url = sim.base_url("gemsim") + "/chat/completions"
    first = await post(http, url, CHAT)
    assert not any(k.lower().startswith("x-ratelimit") for k in first[1])
    clock.advance(30)
    status, headers, _ = await post(http, url, CHAT)
    assert (status, headers["retry-after"]) == (429, "30")
    sim.configure("gemsim", {"geminiBody": True})
    status, headers, raw = await post(http, url, CHAT)
    assert status == 429 and "retry-after" not in headers
    details = orjson.loads(raw)["error"]["details"]
    assert {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "30s"} in details


async def test_a_bare_429_over_http_names_no_time(sim: Simulator, clock, http) -> None:
    url = sim.base_url("gemsim") + "/chat/completions"
    sim.configure("gemsim", {"retryAfter": False})
    await post(http, url, CHAT)
    status, headers, raw = await post(http, url, CHAT)
    assert status == 429 and "retry-after" not in headers
    assert orjson.loads(raw)["error"]["message"] == "Rate limit exceeded. Slow down."


async def test_the_key_endpoint_over_http(sim: Simulator, http) -> None:
    sim.configure("orsim", {"requestsPerWindow": 20, "windowSeconds": 10, "freeTier": False})
    async with http.get(
        sim.base_url("orsim") + "/key", headers={"Authorization": "Bearer sk-or-v1-000"}
    ) as response:
        assert response.status == 200
        assert response.headers["x-sim-provider"] == "orsim"
        data = (await response.json())["data"]
    assert data["rate_limit"] == {"requests": 20, "interval": "10s"}
    assert data["is_free_tier"] is False
    assert sim.stats("orsim")["key_requests"] == 1


@pytest.mark.parametrize(("status", "code"), [(401, "invalid_api_key"), (402, 402), (503, 503)])
async def test_status_modes(sim: Simulator, http, status: int, code: object) -> None:
    sim.configure("groqsim", {"status_override": status})
    got, headers, raw = await post(http, sim.base_url("groqsim") + "/chat/completions", CHAT)
    assert got == status
    assert headers["x-sim-provider"] == "groqsim"
    assert orjson.loads(raw)["error"]["code"] == code


async def test_error_rate_gives_5xx(sim: Simulator, http) -> None:
    sim.configure("groqsim", {"error_rate": 1.0, "error_status": 502})
    status, _, raw = await post(http, sim.base_url("groqsim") + "/chat/completions", CHAT)
    assert status == 502 and "error" in orjson.loads(raw)
    assert sim.stats("groqsim")["errors_5xx"] == 1


async def test_garbage_body(sim: Simulator, http) -> None:
    sim.configure("groqsim", {"garbage_rate": 1.0})
    status, _, raw = await post(http, sim.base_url("groqsim") + "/chat/completions", CHAT)
    assert status == 200
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(raw)


async def test_inband_error_non_stream_and_stream(sim: Simulator, http) -> None:
    sim.configure("groqsim", {"inband_error_rate": 1.0})
    url = sim.base_url("groqsim") + "/chat/completions"
    status, _, raw = await post(http, url, CHAT)
    assert status == 200 and "error" in orjson.loads(raw)
    status, _, raw = await post(http, url, {**CHAT, "stream": True})
    events = sse_payloads(raw)
    assert status == 200
    assert "error" in events[0]
    assert not any(isinstance(e, dict) and "choices" in e for e in events)


async def test_drop_mid_stream_after_n_chunks(sim: Simulator, http) -> None:
    sim.configure("groqsim", {"drop_rate": 1.0, "drop_after_chunks": 3})
    url = sim.base_url("groqsim") + "/chat/completions"
    got = b""
    with pytest.raises(aiohttp.ClientPayloadError):
        async with http.post(url, json={**CHAT, "stream": True}) as response:
            assert response.status == 200
            async for piece in response.content.iter_any():
                got += piece
    assert len(sse_payloads(got)) == 3
    assert sim.stats("groqsim")["dropped"] == 1


async def test_drop_non_stream_closes_without_an_answer(sim: Simulator, http) -> None:
    sim.configure("groqsim", {"drop_rate": 1.0})
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await post(http, sim.base_url("groqsim") + "/chat/completions", CHAT)


async def test_hang_never_answers_until_the_simulator_stops(sim: Simulator, http) -> None:
    sim.configure("groqsim", {"hang_rate": 1.0})
    pending = asyncio.ensure_future(post(http, sim.base_url("groqsim") + "/chat/completions", CHAT))
    await eventually(lambda: sim.stats("groqsim")["hung"] == 1, what="the request hangs")
    assert not pending.done()
    await sim.stop()
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await pending


async def test_latency_delays_the_answer(sim: Simulator, http) -> None:
    sim.configure("groqsim", {"latency_ms": 80, "ttft_ms": 40})
    started = time.monotonic()
    await post(http, sim.base_url("groqsim") + "/chat/completions", CHAT)
    assert time.monotonic() - started >= 0.12


async def test_inter_chunk_delay_spreads_the_stream(sim: Simulator, http) -> None:
    sim.configure("groqsim", {"inter_chunk_ms": 10, "reply_words": 4})
    arrivals: list[float] = []
    url = sim.base_url("groqsim") + "/chat/completions"
    async with http.post(url, json={**CHAT, "stream": True}) as response:
        async for _ in response.content.iter_any():
            arrivals.append(time.monotonic())
    assert len(arrivals) > 1
    assert arrivals[-1] - arrivals[0] >= 0.05


async def test_control_and_stats_over_http(sim: Simulator, http) -> None:
    root = sim.url + "/groqsim"
    await post(http, sim.base_url("groqsim") + "/chat/completions", {**CHAT, "stream": True})
    async with http.get(root + "/_stats") as response:
        stats = await response.json()
    assert (stats["requests"], stats["streamed"], stats["by_status"]) == (1, 1, {"200": 1})
    assert stats["window"]["requests"]["remaining"] == 1
    status, _, raw = await post(http, root + "/_control", {"statusOverride": 402, "apiKey": "k1"})
    assert status == 200 and orjson.loads(raw)["config"]["status_override"] == 402
    assert b"k1" not in raw, "the expected key is never echoed"
    assert (await post(http, sim.base_url("groqsim") + "/chat/completions", CHAT))[0] == 402
    status, _, raw = await post(http, root + "/_control", {"error_rate": 7})
    assert status == 400 and orjson.loads(raw)["problems"]
    await post(http, root + "/_control", {"reset": True, "status_override": None, "api_key": None})
    assert sim.stats("groqsim")["requests"] == 0
    async with http.get(sim.url + "/_stats") as response:
        everything = await response.json()
    assert set(everything["providers"]) == {"groqsim", "cerebrassim", "orsim", "gemsim"}


async def test_last_request_is_recorded_untouched(sim: Simulator, http) -> None:
    body = {**CHAT, "tools": [{"type": "function", "function": {"name": "f"}}], "x_extra": [1]}
    async with http.post(
        sim.base_url("orsim") + "/chat/completions",
        data=orjson.dumps(body),
        headers={"Authorization": "Bearer sk-test", "content-type": "application/json"},
    ) as response:
        assert response.status == 200
    async with http.get(sim.url + "/orsim/_last_request") as response:
        last = await response.json()
    assert last["body"] == body
    assert last["key_fingerprint"] == key_fingerprint("sk-test")
    assert "authorization" not in last["headers"]


async def test_invalid_json_is_a_400(sim: Simulator, http) -> None:
    async with http.post(sim.base_url("groqsim") + "/chat/completions", data=b"{nope") as r:
        assert r.status == 400
        assert (await r.json())["error"]["type"] == "invalid_request_error"


async def test_single_provider_at_the_root(http) -> None:
    async with Simulator([SimProviderConfig(name="solo", prefix="")]) as solo:
        assert solo.base_url("solo") == f"http://127.0.0.1:{solo.port}/v1"
        status, headers, _ = await post(http, solo.base_url("solo") + "/chat/completions", CHAT)
        assert (status, headers["x-sim-provider"]) == (200, "solo")
        async with http.get(solo.url + "/_stats") as response:
            assert (await response.json())["name"] == "solo"


async def test_concurrent_burst_never_exceeds_the_limit(sim: Simulator, http) -> None:
    url = sim.base_url("groqsim") + "/chat/completions"
    results = await asyncio.gather(*(post(http, url, CHAT) for _ in range(10)))
    statuses = sorted(r[0] for r in results)
    assert statuses == [200, 200] + [429] * 8
