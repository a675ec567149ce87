"""What a client hears when no entry can serve: a 429 while rate limits or quotas hold entries
back, a 503 when every entry is only failing, both with a `Retry-After` that is the soonest
"free again in" of the message, and words that say truly what ran out."""

from __future__ import annotations

import re

import openai
import pytest

from chain429.app import AppOptions
from chain429.demo import DEMO_PROVIDERS
from chain429.sim.simulator import Simulator
from tests.support.client import MESSAGES
from tests.support.clock import FakeClock
from tests.support.proxy import make_config
from tests.support.upstream import FakeUpstream, ok, reply

START = 1_800_000_000.0
DOWN = {"error": {"message": "upstream overloaded"}}


async def two_entries(upstream_factory, proxy_factory, first, second):
    a = await upstream_factory(*first)
    b = await upstream_factory(*second)
    clock = FakeClock(START)
    config = make_config([("a", a.base_url), ("b", b.base_url)])
    server = await proxy_factory(config, AppOptions(clock=clock))
    return a, b, server, clock


def free_again_in(message: str) -> list[int]:
    return [int(s) for s in re.findall(r"free again in (\d+)s", message)]


async def unavailable(client: openai.AsyncOpenAI, model: str = "default") -> openai.APIStatusError:
    with pytest.raises(openai.APIStatusError) as caught:
        await client.chat.completions.create(model=model, messages=MESSAGES)
    return caught.value


async def test_every_entry_failing_is_a_503_with_retry_after(
    upstream_factory, proxy_factory, client_factory
):
    a, b, server, clock = await two_entries(
        upstream_factory,
        proxy_factory,
        [reply(500, DOWN), ok()],
        [reply(503, DOWN), ok()],
    )
    client = client_factory(server)
    for attempt in ("called", "skipped"):
        error = await unavailable(client)
        assert isinstance(error, openai.InternalServerError), attempt
        assert error.status_code == 503
        assert error.response.headers["Retry-After"] == "5"
        assert (error.type, error.code) == ("upstream_error", "service_unavailable")
        assert "No entry of chain 'default'" in error.message
        assert "failing" in error.message
        assert free_again_in(error.message) == [5, 5]
        assert (a.calls, b.calls) == (1, 1), "skipped while the penalty lasts"
    clock.advance(5)
    served = await client.chat.completions.create(model="default", messages=MESSAGES)
    assert served.choices[0].message.content == "hello"


async def test_an_entry_out_for_a_rate_limit_keeps_the_429_though_a_failing_one_frees_sooner(
    upstream_factory, proxy_factory, client_factory
):
    _, _, server, _ = await two_entries(
        upstream_factory,
        proxy_factory,
        [reply(429, {"error": {"message": "slow down"}}, {"retry-after": "60"})],
        [reply(502, DOWN)],
    )
    client = client_factory(server)
    for _ in ("called", "skipped"):
        error = await unavailable(client)
        assert isinstance(error, openai.RateLimitError)
        assert error.type == "rate_limit_error"
        assert error.response.headers["Retry-After"] == "5"
        assert sorted(free_again_in(error.message)) == [5, 60]


@pytest.mark.parametrize(
    ("answer", "status"),
    [
        (reply(429, {"error": {"message": "slow down"}}, {"retry-after": "9"}), 429),
        (reply(500, DOWN), 503),
    ],
)
async def test_a_direct_entry_request_hears_of_the_entry_not_a_chain(
    upstream_factory, proxy_factory, client_factory, answer, status
):
    _, _, server, _ = await two_entries(upstream_factory, proxy_factory, [ok()], [answer])
    error = await unavailable(client_factory(server), "b/x")
    assert error.status_code == status
    assert isinstance(error.body, dict)
    assert error.body["message"].startswith("Entry 'b/x' cannot serve this request now")
    assert "chain" not in error.message


@pytest.mark.parametrize(
    ("provider_type", "words"),
    [("openai", "requests per minute exhausted"), ("generic-openai", "request limit exhausted")],
)
async def test_an_exhausted_window_is_named_by_what_the_provider_said(
    upstream_factory, proxy_factory, client_factory, provider_type, words
):
    headers = {
        "x-ratelimit-limit-requests": "2",
        "x-ratelimit-remaining-requests": "0",
        "x-ratelimit-reset-requests": "30s",
    }
    up: FakeUpstream = await upstream_factory(reply(headers=headers))
    config = make_config([("a", up.base_url)], provider_type=provider_type)
    server = await proxy_factory(config, AppOptions(clock=FakeClock(START)))
    client = client_factory(server)
    await client.chat.completions.create(model="default", messages=MESSAGES)
    error = await unavailable(client)
    assert error.status_code == 429
    assert words in error.message
    assert "unknown" not in error.message
    assert error.response.headers["Retry-After"] == "30" and free_again_in(error.message) == [30]


async def exhaust_the_demo(client: openai.AsyncOpenAI) -> openai.APIStatusError:
    capacity = sum(p.requests_per_window or 0 for p in DEMO_PROVIDERS)
    for _ in range(capacity):
        await client.chat.completions.create(model="default", messages=MESSAGES)
    return await unavailable(client)


async def test_the_demo_chain_exhausted_says_per_minute_and_retry_after_matches(
    proxy_factory, client_factory
):
    clock = FakeClock(START)
    instant = [p.model_copy(update={"ttft_ms": 0, "inter_chunk_ms": 0}) for p in DEMO_PROVIDERS]
    async with Simulator(instant, clock=clock) as sim:
        types = {"groq-sim": "groq", "cerebras-sim": "cerebras", "openrouter-sim": "openrouter"}
        config = make_config(
            [(p.name, sim.base_url(p.name)) for p in DEMO_PROVIDERS],
            chain=[(p.name, p.models[0]) for p in DEMO_PROVIDERS],
            provider_types=types,
        )
        server = await proxy_factory(config, AppOptions(clock=clock))
        client = client_factory(server)
        error = await exhaust_the_demo(client)
        assert isinstance(error, openai.RateLimitError)
        message = error.message
        assert "requests per minute" in message
        assert "per day" not in message and "per unknown" not in message
        listed = free_again_in(message)
        assert len(listed) == len(DEMO_PROVIDERS)
        assert error.response.headers["Retry-After"] == str(min(listed))
        assert 55 <= min(listed) <= 60
