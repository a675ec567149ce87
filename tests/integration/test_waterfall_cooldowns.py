"""How long a 429 benches an entry, from every signal it carries, seen from the client.

A one-entry chain makes the proxy's own answer show the cooldown: once its only entry is
cooling, it answers 429 with `Retry-After` = seconds until the entry frees up.
"""

from __future__ import annotations

import asyncio
from email.utils import formatdate

import orjson
import pytest

from chain429.app import AppOptions
from chain429.server import RunningServer
from chain429.tasks import create_task
from tests.support.client import Answer, chat
from tests.support.clock import FakeClock
from tests.support.polling import eventually
from tests.support.proxy import make_config
from tests.support.upstream import Behaviour, FakeUpstream, gated, ok, reply, trickle

DEFAULT_COOLDOWN_S = 45
START = 1_800_000_000.0  # 2027-01-15 08:00:00 UTC
NEXT_UTC_MIDNIGHT = 1_800_057_600.0


def limited(body: object = None, **headers: str) -> Behaviour:
    payload = body if body is not None else {"error": {"message": "Too many requests"}}
    return reply(429, payload, headers=headers)


async def start(
    upstream_factory,
    proxy_factory,
    *script: Behaviour,
    provider_type: str = "generic-openai",
    model: str = "a-model",
    probes: int = 1,
) -> tuple[FakeUpstream, RunningServer, FakeClock]:
    up = await upstream_factory(*script)
    config = make_config(
        [("a", up.base_url)],
        chain=[("a", model)],
        provider_type=provider_type,
        settings={"cooldownDefaultMs": DEFAULT_COOLDOWN_S * 1000, "probeConcurrency": probes},
    )
    clock = FakeClock(START)
    server = await proxy_factory(config, AppOptions(clock=clock))
    return up, server, clock


def retry_after(answer: Answer) -> int:
    assert answer.status == 429, answer.body
    assert answer.error["type"] == "rate_limit_error"
    return int(answer.headers["Retry-After"])


async def assert_benched_for(http, server, up: FakeUpstream, clock: FakeClock, seconds: float):
    """The entry is skipped until `seconds` from now, then called again."""
    calls = up.calls
    clock.advance(seconds - 0.5)
    skipped = await chat(http, server)
    assert retry_after(skipped) == 1
    assert up.calls == calls
    clock.advance(0.5)
    assert (await chat(http, server)).status == 200
    assert up.calls == calls + 1


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"retry-after": "30"}, 30),
        ({"retry-after": "7.2"}, 8),
        ({"retry-after": formatdate(START + 120, usegmt=True)}, 120),
        ({"retry-after-ms": "4500"}, 5),
        ({"retry-after-ms": "4500", "retry-after": "5"}, 5),
        ({"retry-after": "soon"}, DEFAULT_COOLDOWN_S),
        ({}, DEFAULT_COOLDOWN_S),
    ],
    ids=["seconds", "fraction", "http-date", "ms", "ms-and-seconds", "unreadable", "none"],
)
async def test_retry_after_headers_set_the_cooldown(
    upstream_factory, proxy_factory, http, headers, seconds
):
    up, server, clock = await start(upstream_factory, proxy_factory, limited(**headers), ok())
    assert retry_after(await chat(http, server)) == seconds
    assert retry_after(await chat(http, server)) == seconds, "skipped, not called again"
    assert up.calls == 1


async def test_retry_after_ms_cooldown_expires_on_the_clock(upstream_factory, proxy_factory, http):
    up, server, clock = await start(
        upstream_factory, proxy_factory, limited(**{"retry-after-ms": "4500"}), ok()
    )
    await chat(http, server)
    await assert_benched_for(http, server, up, clock, 4.5)


async def test_groq_reset_headers_on_the_429_set_the_cooldown(
    upstream_factory, proxy_factory, http
):
    headers = {
        "x-ratelimit-limit-requests": "14400",
        "x-ratelimit-remaining-requests": "0",
        "x-ratelimit-reset-requests": "2m0s",
        "x-ratelimit-limit-tokens": "6000",
        "x-ratelimit-remaining-tokens": "5400",
        "x-ratelimit-reset-tokens": "6s",
    }
    up, server, clock = await start(
        upstream_factory, proxy_factory, limited(**headers), ok(), provider_type="groq"
    )
    assert retry_after(await chat(http, server)) == 120
    await assert_benched_for(http, server, up, clock, 120)


async def test_groq_token_reset_when_tokens_ran_out(upstream_factory, proxy_factory, http):
    headers = {
        "x-ratelimit-remaining-requests": "900",
        "x-ratelimit-reset-requests": "1h2m3s",
        "x-ratelimit-remaining-tokens": "0",
        "x-ratelimit-reset-tokens": "7.66s",
    }
    up, server, clock = await start(
        upstream_factory, proxy_factory, limited(**headers), ok(), provider_type="groq"
    )
    assert retry_after(await chat(http, server)) == 8


async def test_gemini_retry_delay_in_the_body_sets_the_cooldown(
    upstream_factory, proxy_factory, http
):
    body = [
        {
            "error": {
                "code": 429,
                "message": "You exceeded your current quota.",
                "status": "RESOURCE_EXHAUSTED",
                "details": [
                    {
                        "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                        "violations": [
                            {"quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"}
                        ],
                    },
                    {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "42s"},
                ],
            }
        }
    ]
    up, server, clock = await start(
        upstream_factory, proxy_factory, limited(body), ok(), provider_type="google-ai"
    )
    assert retry_after(await chat(http, server)) == 42
    await assert_benched_for(http, server, up, clock, 42)


GEMINI_TAIL = {
    "error": {
        "code": 429,
        "message": "You exceeded your current quota. " + "Quota details follow. " * 100,
        "status": "RESOURCE_EXHAUSTED",
        "details": [
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "42s"},
        ],
    }
}
GROQ_TAIL = {
    "error": {
        "message": "Rate limit reached for model `m` on tokens per minute (TPM). "
        + "Limit 6000, Used 6000, Requested 20. " * 60
        + "Please try again in 7.66s.",
        "type": "tokens",
        "code": "rate_limit_exceeded",
    }
}


@pytest.mark.parametrize(
    ("provider_type", "body", "seconds"),
    [("google-ai", GEMINI_TAIL, 42), ("groq", GROQ_TAIL, 8)],
    ids=["gemini-retry-delay", "groq-try-again-in"],
)
async def test_a_retry_delay_at_the_tail_of_a_body_sent_in_pieces_is_honoured(
    upstream_factory, proxy_factory, http, provider_type, body, seconds
):
    """The 429 body arrives in four writes with pauses between them; the delay is in the last
    one, so reading only what the first read returned would fall back to the default cooldown."""
    payload = orjson.dumps(body)
    up, server, clock = await start(
        upstream_factory,
        proxy_factory,
        trickle(429, payload, pieces=4, pause_s=0.05),
        ok(),
        provider_type=provider_type,
    )
    assert retry_after(await chat(http, server)) == seconds
    await assert_benched_for(http, server, up, clock, seconds)


async def test_openrouter_free_models_per_day_cools_until_utc_midnight(
    upstream_factory, proxy_factory, http
):
    body = {
        "error": {
            "code": 429,
            "message": "Rate limit exceeded: free-models-per-day. Add 10 credits to unlock more.",
            "metadata": {"headers": {"X-RateLimit-Limit": "50", "X-RateLimit-Remaining": "0"}},
        }
    }
    up, server, clock = await start(
        upstream_factory,
        proxy_factory,
        limited(body),
        ok(),
        provider_type="openrouter",
        model="meta-llama/llama-3.3-70b-instruct:free",
    )
    assert retry_after(await chat(http, server)) == NEXT_UTC_MIDNIGHT - START
    await assert_benched_for(http, server, up, clock, NEXT_UTC_MIDNIGHT - START)


async def test_untimed_429s_back_off(upstream_factory, proxy_factory, http):
    up, server, clock = await start(upstream_factory, proxy_factory, limited())
    assert retry_after(await chat(http, server)) == DEFAULT_COOLDOWN_S
    clock.advance(DEFAULT_COOLDOWN_S)
    assert retry_after(await chat(http, server)) == 2 * DEFAULT_COOLDOWN_S
    clock.advance(2 * DEFAULT_COOLDOWN_S)
    assert retry_after(await chat(http, server)) == 4 * DEFAULT_COOLDOWN_S
    assert up.calls == 3


async def test_a_second_429_while_cooling_extends_the_cooldown(
    upstream_factory, proxy_factory, http
):
    """Two requests in flight at once both get a 429; the later reset wins, whichever answer
    arrives first, and a shorter one never cuts a running cooldown short. (Two probes may go
    at once, so both reach the entry whose limits are not known yet.)"""
    gate = asyncio.Event()
    up, server, clock = await start(
        upstream_factory,
        proxy_factory,
        gated(limited(**{"retry-after": "10"}), gate),
        gated(limited(**{"retry-after": "30"}), gate),
        limited(**{"retry-after": "5"}),
        probes=2,
    )
    tasks = [create_task(chat(http, server), name=f"client-{i}") for i in range(2)]
    await eventually(lambda: up.calls == 2, what="both requests at the upstream")
    gate.set()
    answers = await asyncio.gather(*tasks)
    assert sorted(retry_after(a) for a in answers) == [10, 30]
    assert retry_after(await chat(http, server)) == 30
    assert up.calls == 2


async def test_a_shorter_429_does_not_shorten_a_cooldown(upstream_factory, proxy_factory, http):
    up = await upstream_factory(limited(**{"retry-after": "60"}), ok())
    b = await upstream_factory(limited(**{"retry-after": "5"}))
    config = make_config(
        [("a", up.base_url), ("b", b.base_url)],
        chain=[("a", "m"), ("b", "m")],
        extra_chains={"direct": [("a", "m")]},
    )
    clock = FakeClock(START)
    server = await proxy_factory(config, AppOptions(clock=clock))
    answer = await chat(http, server)
    assert retry_after(answer) == 5
    listing = answer.error["message"]
    assert "a/m: HTTP 429: Too many requests, free again in 60s" in listing
    assert "b/m: HTTP 429: Too many requests, free again in 5s" in listing
    body = orjson.loads(answer.body)
    assert body["error"]["code"] == "rate_limit_exceeded"
