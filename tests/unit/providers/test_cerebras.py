from __future__ import annotations

import copy
from typing import Any

from chain429.limits.metric import MetricKind, Window
from chain429.providers.cerebras import UNSUPPORTED_FIELDS, CerebrasAdapter

NOW = 1_800_000_000.0
ADAPTER = CerebrasAdapter()


def test_rejected_fields_are_dropped_without_touching_the_input() -> None:
    body: dict[str, Any] = {
        "model": "chain",
        "messages": [{"role": "user", "content": "hi"}],
        "frequency_penalty": 0.2,
        "presence_penalty": 0.1,
        "logit_bias": {"50256": -100},
        "parallel_tool_calls": False,
        "service_tier": "auto",
        "temperature": 0.3,
        "max_tokens": 100,
    }
    before = copy.deepcopy(body)
    prepared = ADAPTER.prepare(body, "llama3.1-8b")
    assert prepared == {
        "model": "llama3.1-8b",
        "messages": body["messages"],
        "temperature": 0.3,
        "max_tokens": 100,
    }
    assert body == before
    assert UNSUPPORTED_FIELDS.isdisjoint(prepared)


def test_clean_bodies_are_only_given_the_model() -> None:
    body = {"model": "x", "messages": [], "n": 1}
    assert ADAPTER.prepare(body, "qwen-3-32b") == {"model": "qwen-3-32b", "messages": [], "n": 1}


def test_reserves_max_tokens() -> None:
    assert ADAPTER.reserves_max_tokens


def test_windowed_headers() -> None:
    headers = {
        "x-ratelimit-limit-requests-day": "14400",
        "x-ratelimit-remaining-requests-day": "0",
        "x-ratelimit-reset-requests-day": "33011.38",
        "x-ratelimit-limit-tokens-minute": "60000",
        "x-ratelimit-remaining-tokens-minute": "59000",
        "x-ratelimit-reset-tokens-minute": "11.38",
    }
    requests, tokens = ADAPTER.limit_report(headers, None, NOW).metrics
    assert (requests.kind, requests.window, requests.remaining) == (
        MetricKind.REQUESTS,
        Window.DAY,
        0,
    )
    assert requests.reset_at == NOW + 33011.38
    assert (tokens.kind, tokens.window, tokens.limit, tokens.remaining) == (
        MetricKind.TOKENS,
        Window.MINUTE,
        60000,
        59000,
    )
