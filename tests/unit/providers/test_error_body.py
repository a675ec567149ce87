from __future__ import annotations

import json

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from chain429.limits.metric import Scope
from chain429.providers.error_body import (
    MAX_MESSAGE_LENGTH,
    UpstreamErrorInfo,
    clean_text,
    decode_error_object,
    in_band_error,
    parse_error_body,
)

NOW = 1_800_000_000.0  # 2027-01-15 08:00:00 UTC


def test_openai_shape() -> None:
    body = {
        "error": {
            "message": "Rate limit reached for model `llama-3.3-70b-versatile` on tokens per "
            "minute (TPM): Limit 12000, Used 11950. Please try again in 7.66s.",
            "type": "tokens",
            "code": "rate_limit_exceeded",
        }
    }
    info = parse_error_body(orjson.dumps(body), NOW)
    assert info.message.startswith("Rate limit reached")
    assert (info.type, info.code) == ("tokens", "rate_limit_exceeded")
    assert info.retry_at == pytest.approx(NOW + 7.66)
    assert info.reason == "per-minute quota"


def test_error_as_text_and_top_level_message() -> None:
    assert parse_error_body(b'{"error": "model not found"}', NOW).message == "model not found"
    info = parse_error_body(b'{"message": "Unauthorized", "code": 401}', NOW)
    assert (info.message, info.code) == ("Unauthorized", "401")
    detail = parse_error_body(b'{"detail": [{"loc": ["body"], "msg": "bad"}]}', NOW)
    assert "bad" in detail.message


def test_vllm_object_error() -> None:
    body = b'{"object": "error", "message": "max_tokens too large", "type": "BadRequestError"}'
    info = parse_error_body(body, NOW)
    assert (info.message, info.type) == ("max_tokens too large", "BadRequestError")


def test_gemini_list_body_with_retry_info() -> None:
    body = [
        {
            "error": {
                "code": 429,
                "message": "You exceeded your current quota. Please retry in 30.5s.",
                "status": "RESOURCE_EXHAUSTED",
                "details": [
                    {
                        "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                        "violations": [
                            {
                                "quotaMetric": "generativelanguage.googleapis.com/"
                                "generate_content_free_tier_requests",
                                "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
                            }
                        ],
                    },
                    {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "30s"},
                ],
            }
        }
    ]
    info = parse_error_body(orjson.dumps(body), NOW)
    assert (info.type, info.code, info.retry_at) == ("RESOURCE_EXHAUSTED", "429", NOW + 30)
    assert info.reason == "per-minute quota"


def test_openrouter_free_models_per_day() -> None:
    body = {
        "error": {
            "message": "Rate limit exceeded: free-models-per-day. Add 10 credits to unlock 1000",
            "code": 429,
            "metadata": {
                "headers": {
                    "X-RateLimit-Limit": "50",
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": 1800057600000,
                }
            },
        }
    }
    info = parse_error_body(orjson.dumps(body), NOW)
    assert info.retry_at == 1_800_057_600.0  # next 00:00 UTC
    assert (info.reason, info.retry_scope) == ("free-models-per-day", Scope.FREE_MODELS)
    assert ("x-ratelimit-reset", "1800057600000") in info.embedded_headers


def test_openrouter_upstream_raw_message_is_kept() -> None:
    body = {
        "error": {
            "message": "Provider returned error",
            "code": 429,
            "metadata": {"raw": "llama is temporarily rate-limited upstream", "provider": "X"},
        }
    }
    info = parse_error_body(orjson.dumps(body), NOW)
    assert info.message == "Provider returned error: llama is temporarily rate-limited upstream"


def test_html_gateway_page() -> None:
    page = b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body></body></html>"
    assert parse_error_body(page, NOW).message == "502 Bad Gateway"
    untitled = b"<html><body><script>x()</script><h1>Service &amp; Co down</h1></body></html>"
    assert parse_error_body(untitled, NOW).message == "Service & Co down"


def test_empty_and_plain_bodies() -> None:
    assert parse_error_body(None, NOW) == UpstreamErrorInfo(message="")
    assert parse_error_body(b"  \n", NOW) == UpstreamErrorInfo(message="")
    assert parse_error_body(b"upstream timed out", NOW).message == "upstream timed out"
    assert parse_error_body(b"\xff\xfe garbage", NOW).message.endswith("garbage")
    assert parse_error_body(b"[1, 2]", NOW).message == "[1, 2]"


def test_messages_are_short_single_lines() -> None:
    info = parse_error_body(orjson.dumps({"error": {"message": "a\nb\x00c " * 500}}), NOW)
    assert len(info.message) <= MAX_MESSAGE_LENGTH
    assert "\n" not in info.message and "\x00" not in info.message
    assert info.message.endswith("…")
    assert clean_text("  x \t y  ") == "x y"


def test_in_band_errors() -> None:
    chunk = {
        "id": "gen-1",
        "object": "chat.completion.chunk",
        "error": {"code": 502, "message": "Upstream error"},
        "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": "error"}],
    }
    info = in_band_error(chunk, NOW)
    assert info is not None
    assert (info.message, info.code) == ("Upstream error", "502")
    assert in_band_error({"error": "boom"}) == UpstreamErrorInfo(message="boom")
    limited = in_band_error({"error": {"message": "try again in 2s", "code": 429}}, NOW)
    assert limited is not None and limited.retry_at == NOW + 2
    assert in_band_error({"object": "error", "message": "bad"}) is not None


@pytest.mark.parametrize(
    "obj",
    [
        {"choices": [{"delta": {"content": "hi"}}]},
        {"error": None, "choices": []},
        {"error": {}},
        {"error": "  "},
        {"error": False},
    ],
)
def test_no_in_band_error(obj: dict[str, object]) -> None:
    assert in_band_error(obj, NOW) is None


def test_decode_error_object() -> None:
    assert decode_error_object(b'[{"a": 1}, {"error": {}}]') == {"error": {}}
    assert decode_error_object(b"[1]") is None
    assert decode_error_object(b"nope") is None


KEYS = "error message code type status details metadata headers raw retryDelay @type violations"
JSON_KEYS = st.sampled_from([*KEYS.split(), "quotaId", "detail", "object"]) | st.text(max_size=8)
SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
JSON = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(JSON_KEYS, children, max_size=5)
    ),
    max_leaves=20,
)


@given(st.binary(max_size=300))
def test_any_bytes_parse(body: bytes) -> None:
    assert isinstance(parse_error_body(body, NOW), UpstreamErrorInfo)


@given(JSON)
def test_any_json_parses(value: object) -> None:
    assert isinstance(parse_error_body(json.dumps(value).encode(), NOW), UpstreamErrorInfo)
    if isinstance(value, dict):
        in_band_error(value, NOW)
