"""The simulator as the official `openai` SDK sees it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import openai
import pytest
from openai import AsyncOpenAI

from chain429.sim import Dialect, SimProviderConfig, Simulator
from tests.support.clock import FakeClock

MESSAGES = [{"role": "user", "content": "Say something."}]


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    providers = [
        SimProviderConfig(name="groqsim", dialect=Dialect.GROQ, requests_per_day=3),
        SimProviderConfig(name="opensim", dialect=Dialect.OPENAI, tokens_per_window=1000),
    ]
    async with Simulator(providers, clock=FakeClock()) as simulator:
        yield simulator


@pytest.fixture
async def client(sim: Simulator) -> AsyncIterator[AsyncOpenAI]:
    async with AsyncOpenAI(base_url=sim.base_url("groqsim"), api_key="x", max_retries=0) as c:
        yield c


async def test_non_stream(client: AsyncOpenAI) -> None:
    raw = await client.chat.completions.with_raw_response.create(
        model="llama-sim", messages=MESSAGES, max_completion_tokens=5
    )
    completion = raw.parse()
    assert raw.headers["x-sim-provider"] == "groqsim"
    assert raw.headers["x-ratelimit-remaining-requests"] == "2"
    assert completion.model == "llama-sim"
    assert completion.choices[0].message.role == "assistant"
    assert completion.choices[0].message.content == "[groqsim] simulated reply from model"
    assert completion.choices[0].finish_reason == "length"
    assert completion.usage is not None
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (3, 5)


async def test_stream_with_usage(client: AsyncOpenAI) -> None:
    stream = await client.chat.completions.create(
        model="llama-sim",
        messages=MESSAGES,
        stream=True,
        stream_options={"include_usage": True},
    )
    text, finish, usage = "", None, None
    async for chunk in stream:
        if chunk.choices:
            text += chunk.choices[0].delta.content or ""
            finish = chunk.choices[0].finish_reason or finish
        usage = chunk.usage or usage
    assert text.startswith("[groqsim] ")
    assert len(text.split()) == 12
    assert finish == "stop"
    assert usage is not None and usage.completion_tokens == 12


async def test_legacy_completions_stream(client: AsyncOpenAI) -> None:
    stream = await client.completions.create(model="m", prompt="hi", stream=True, max_tokens=3)
    text = "".join([chunk.choices[0].text async for chunk in stream])
    assert text == "[groqsim] simulated reply"


async def test_models(client: AsyncOpenAI) -> None:
    models = [m.id async for m in client.models.list()]
    assert models == ["sim-small", "sim-large"]


async def test_rate_limit_error_with_dialect_headers(client: AsyncOpenAI) -> None:
    for _ in range(3):
        await client.chat.completions.create(model="m", messages=MESSAGES)
    with pytest.raises(openai.RateLimitError) as caught:
        await client.chat.completions.create(model="m", messages=MESSAGES)
    headers = caught.value.response.headers
    assert headers["x-ratelimit-limit-requests"] == "3"
    assert headers["x-ratelimit-remaining-requests"] == "0"
    assert int(headers["retry-after"]) > 0


async def test_token_window_refuses_a_large_request(sim: Simulator) -> None:
    async with AsyncOpenAI(base_url=sim.base_url("opensim"), api_key="x", max_retries=0) as c:
        big = [{"role": "user", "content": "x" * 4000}]
        with pytest.raises(openai.RateLimitError) as caught:
            await c.chat.completions.create(model="m", messages=big)
    assert caught.value.response.headers["x-ratelimit-remaining-tokens"] == "1000"
    assert "tokens per minute (TPM)" in caught.value.message


async def test_payment_and_auth_modes_raise_the_sdk_errors(sim: Simulator, client) -> None:
    sim.configure("groqsim", {"status_override": 401})
    with pytest.raises(openai.AuthenticationError):
        await client.chat.completions.create(model="m", messages=MESSAGES)
    sim.configure("groqsim", {"status_override": 402})
    with pytest.raises(openai.APIStatusError) as caught:
        await client.chat.completions.create(model="m", messages=MESSAGES)
    assert caught.value.status_code == 402


async def test_inband_stream_error_makes_the_sdk_raise(sim: Simulator, client) -> None:
    sim.configure("groqsim", {"inband_error_rate": 1.0})
    stream = await client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
    with pytest.raises(openai.APIError):
        async for _ in stream:
            pass


async def test_dropped_stream_makes_the_sdk_raise(sim: Simulator, client) -> None:
    sim.configure("groqsim", {"drop_rate": 1.0, "drop_after_chunks": 2})
    stream = await client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
    seen = []
    with pytest.raises(openai.APIError):
        async for chunk in stream:
            seen.append(chunk)
    assert len(seen) == 2
