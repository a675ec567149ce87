from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest

from chain429.limits.metric import Scope
from chain429.providers.error_body import parse_error_body
from chain429.providers.google_ai import (
    GoogleAIAdapter,
    fold_system_messages,
    gemini_retry_hint,
)
from chain429.providers.retry_hints import PER_DAY, PER_MINUTE, RetryHint

NOW = 1_800_000_000.0  # 2027-01-15 08:00:00 UTC, midnight Pacific
NEXT_PACIFIC_MIDNIGHT = NOW + 86_400
ADAPTER = GoogleAIAdapter()


def _body(*messages: dict[str, Any]) -> dict[str, Any]:
    return {"model": "chain", "messages": list(messages), "temperature": 0}


def test_gemma_system_prompt_goes_into_the_first_user_message() -> None:
    body = _body(
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello"},
        {"role": "user", "content": "Again"},
    )
    before = copy.deepcopy(body)
    prepared = ADAPTER.prepare(body, "gemma-3-27b-it")
    assert prepared["messages"] == [
        {"role": "user", "content": "Be brief.\n\nHi"},
        {"role": "assistant", "content": "Hello"},
        {"role": "user", "content": "Again"},
    ]
    assert prepared["messages"][1] is body["messages"][2]
    assert body == before
    assert prepared["model"] == "gemma-3-27b-it"


def test_several_system_messages_and_content_parts() -> None:
    messages = [
        {"role": "system", "content": [{"type": "text", "text": "One."}]},
        {"role": "developer", "content": "Two."},
        {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:"}}]},
    ]
    folded = fold_system_messages(messages)
    assert folded == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "One.\n\nTwo."},
                {"type": "image_url", "image_url": {"url": "data:"}},
            ],
        }
    ]


def test_no_user_message_makes_one() -> None:
    folded = fold_system_messages([{"role": "system", "content": "Rules"}])
    assert folded == [{"role": "user", "content": "Rules"}]


def test_empty_system_messages_are_dropped_and_none_means_unchanged() -> None:
    assert fold_system_messages([{"role": "system", "content": ""}, {"role": "user"}]) == [
        {"role": "user"}
    ]
    assert fold_system_messages([{"role": "user", "content": "hi"}]) is None


def test_gemini_models_keep_their_system_role() -> None:
    body = _body({"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"})
    prepared = ADAPTER.prepare(body, "gemini-2.5-flash")
    assert prepared["messages"] is body["messages"]


def test_odd_messages_are_left_alone() -> None:
    assert ADAPTER.prepare({"messages": "odd"}, "gemma-3")["messages"] == "odd"
    assert "messages" not in ADAPTER.prepare({}, "gemma-3")


def test_daily_quota_429_waits_for_pacific_midnight() -> None:
    body = orjson.dumps(
        [
            {
                "error": {
                    "code": 429,
                    "status": "RESOURCE_EXHAUSTED",
                    "message": "Quota exceeded. Please retry in 41s.",
                    "details": [
                        {
                            "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                            "violations": [
                                {"quotaId": "GenerateRequestsPerDayPerProjectPerModel-FreeTier"}
                            ],
                        },
                        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "41s"},
                    ],
                }
            }
        ]
    )
    report = ADAPTER.limit_report({}, parse_error_body(body, NOW + 60), NOW + 60)
    assert report.retry_at == NOW + 86_400
    assert report.reason == "per-day quota"


def test_only_the_headers_any_server_sends_are_read() -> None:
    headers = {
        "x-ratelimit-limit-requests": "14400",
        "x-ratelimit-remaining-tokens-minute": "5",
        "x-ratelimit-remaining": "3",
        "retry-after": "30",
    }
    report = ADAPTER.limit_report(headers, None, NOW)
    assert report.metrics == ()
    assert report.retry_at == NOW + 30
    assert len(report.raw_unparsed) == 3


def _details(quota_id: str, delay: object) -> list[dict[str, object]]:
    return [
        {
            "@type": "type.googleapis.com/google.rpc.QuotaFailure",
            "violations": [{"quotaMetric": "x/requests", "quotaId": quota_id}],
        },
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay},
    ]


def test_per_minute_quota_waits_the_retry_delay() -> None:
    details = _details("GenerateRequestsPerMinutePerProjectPerModel-FreeTier", "30s")
    hint = gemini_retry_hint(RetryHint(NOW + 99), details, NOW)
    assert hint == RetryHint(NOW + 30, PER_MINUTE, Scope.MODEL)


def test_per_day_quota_waits_for_pacific_midnight() -> None:
    details = _details("GenerateRequestsPerDayPerProjectPerModel-FreeTier", "30s")
    hint = gemini_retry_hint(RetryHint(), details, NOW + 3600)
    assert (hint.retry_at, hint.reason) == (NEXT_PACIFIC_MIDNIGHT, PER_DAY)


def test_proto_json_delay() -> None:
    details = _details("PerMinute", {"seconds": 12, "nanos": 500_000_000})
    assert gemini_retry_hint(RetryHint(), details, NOW).retry_at == NOW + 12.5


def test_without_details_the_message_hint_stands() -> None:
    hint = RetryHint(NOW + 30.5, PER_MINUTE)
    assert gemini_retry_hint(hint, None, NOW) == hint


def test_without_now_only_the_period_is_known() -> None:
    details = _details("GenerateRequestsPerDayPerProjectPerModel-FreeTier", "30s")
    assert gemini_retry_hint(RetryHint(), details, None) == RetryHint(None, PER_DAY)


@pytest.mark.parametrize(
    "details", [None, "x", [1, None, {"@type": 5}], [{"@type": "google.rpc.QuotaFailure"}]]
)
def test_odd_details_are_ignored(details: object) -> None:
    assert gemini_retry_hint(RetryHint(), details, NOW) == RetryHint()
