from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chain429.usage.records import RequestRecord
from chain429.usage.requestlog import LogQuery
from chain429.usage.series import BucketSize, GroupBy, TimeRange, bucket_count, bucket_starts
from chain429.usage.stats import UsageStats
from chain429.usage.writer import BatchWriter
from tests.support.usage_records import T0, exhausted, open_store, served

MS = 1000
WHEN = TimeRange(T0, T0 + 180)


def known_records() -> list[RequestRecord]:
    """Five known requests in the range `WHEN`, one outside it."""
    return [
        served("a1", at=T0 + 10, model="m1", latency_ms=100, ttft_ms=20, tokens=(10, 20)),
        served(
            "a2", at=T0 + 20, model="m1", latency_ms=200, tokens=(5, 5), fallen_from=("cerebras",)
        ),
        served(
            "a3",
            at=T0 + 70,
            chain="smart",
            provider="cerebras",
            model="m2",
            latency_ms=300,
            tokens=(1, 1),
        ),
        exhausted("a4", at=T0 + 80),
        served(
            "a5",
            at=T0 + 130,
            chain="smart",
            model="m1",
            latency_ms=400,
            ttft_ms=40,
            tokens=(100, 0),
            fallen_from=("cerebras", "mistral"),
        ),
        served("outside", at=T0 + 4000, chain="other"),
    ]


@asynccontextmanager
async def stats_of(database: str) -> AsyncIterator[UsageStats]:
    """`known_records()` in `database`, written through the batch writer like the proxy's own."""
    async with open_store(database) as store:
        writer = BatchWriter(store)
        await writer.start()
        for record in known_records():
            writer.submit(record)
        await writer.close()
        yield UsageStats(store)


@pytest.fixture
async def stats(usage_database: str) -> AsyncIterator[UsageStats]:
    async with stats_of(usage_database) as stats:
        yield stats


async def _every_answer(stats: UsageStats) -> list[object]:
    answers: list[object] = [
        await stats.summary(),
        await stats.providers(configured=["idle"]),
        await stats.chains(),
        await stats.recent_requests(10),
        await stats.request_log(LogQuery(limit=4)),
    ]
    for group_by in GroupBy:
        answers.append(await stats.totals(group_by, WHEN))
        answers.append(await stats.outcomes(group_by, WHEN))
        for bucket in (BucketSize.MINUTE, BucketSize.HOUR):
            answers.append(await stats.series(group_by, WHEN, bucket))
    return answers


async def test_sqlite_and_postgresql_give_the_same_answers(tmp_path, postgres_url: str) -> None:
    """Every statistic, field for field and in the same order (NULL keys included)."""
    async with stats_of(str(tmp_path / "u.db")) as sqlite, stats_of(postgres_url) as postgresql:
        assert await _every_answer(postgresql) == await _every_answer(sqlite)


async def test_summary_counts_waterfalls_and_mean_latency(stats: UsageStats) -> None:
    assert await stats.summary() == {
        "totalRequests": 6,
        "waterfallRequests": 3,
        "avgLatencyMs": round((100 + 200 + 300 + 5 + 400 + 100) / 6),
    }


async def test_provider_usage_in_the_original_shape(stats: UsageStats) -> None:
    providers = await stats.providers()
    assert providers == [
        {
            "providerId": "groq",
            "totalRequests": 4,
            "totalTokens": 30 + 10 + 100 + 30,
            "totalPromptTokens": 10 + 5 + 100 + 10,
            "totalCompletionTokens": 20 + 5 + 0 + 20,
            "lastRequestTimestamp": (T0 + 4000) * MS,
        },
        {
            "providerId": "cerebras",
            "totalRequests": 1,
            "totalTokens": 2,
            "totalPromptTokens": 1,
            "totalCompletionTokens": 1,
            "lastRequestTimestamp": (T0 + 70) * MS,
        },
    ]
    assert await stats.providers("cerebras") == providers[1:]
    assert await stats.providers("nobody") == []


async def test_chain_usage_counts_failed_requests_too(stats: UsageStats) -> None:
    chains = {c["chainName"]: c for c in await stats.chains()}
    assert chains["fast"]["totalRequests"] == 3
    assert chains["fast"]["totalTokens"] == 40
    assert chains["smart"]["totalRequests"] == 2
    assert chains["smart"]["lastRequestTimestamp"] == (T0 + 130) * MS


async def test_recent_requests_newest_first_in_the_original_shape(stats: UsageStats) -> None:
    rows = await stats.recent_requests(2)
    assert [r["chainName"] for r in rows] == ["other", "smart"]
    failed = (await stats.recent_requests(3))[2]
    assert failed == {
        "id": failed["id"],
        "timestamp": (T0 + 80) * MS,
        "chainName": "fast",
        "providerId": None,
        "model": None,
        "promptTokens": 0,
        "completionTokens": 0,
        "totalTokens": 0,
        "latencyMs": 5,
        "httpStatus": 429,
        "attempts": 2,
    }


async def test_totals_per_provider_with_percentiles(stats: UsageStats) -> None:
    totals = {t["key"]["provider"]: t for t in await stats.totals(GroupBy.PROVIDER, WHEN)}
    assert set(totals) == {"groq", "cerebras", None}
    groq = totals["groq"]
    assert groq["requests"] == 3 and groq["errors"] == 0
    assert groq["fallthroughs"] == 2 and groq["fallthroughRate"] == pytest.approx(0.6667)
    assert (groq["promptTokens"], groq["completionTokens"], groq["totalTokens"]) == (115, 25, 140)
    assert (groq["latencyP50Ms"], groq["latencyP95Ms"]) == (200.0, 400.0)
    assert (groq["ttftP50Ms"], groq["ttftP95Ms"]) == (20.0, 40.0)
    assert groq["latencyAvgMs"] == pytest.approx(233.3)
    unserved = totals[None]
    assert (unserved["requests"], unserved["errors"], unserved["errorRate"]) == (1, 1, 1.0)
    assert unserved["ttftP50Ms"] is None


async def test_totals_per_chain_model_and_key(stats: UsageStats) -> None:
    chains = {t["key"]["chain"]: t["requests"] for t in await stats.totals(GroupBy.CHAIN, WHEN)}
    assert chains == {"fast": 3, "smart": 2}
    models = {
        (t["key"]["provider"], t["key"]["model"]): t["requests"]
        for t in await stats.totals(GroupBy.MODEL, WHEN)
    }
    assert models == {("groq", "m1"): 3, ("cerebras", "m2"): 1, (None, None): 1}
    keys = await stats.totals(GroupBy.KEY, WHEN)
    assert {(k["key"]["provider"], k["key"]["keyLabel"]) for k in keys} == {
        ("groq", "…abcd"),
        ("cerebras", "…abcd"),
        (None, None),
    }
    (everything,) = await stats.totals(GroupBy.NONE, WHEN)
    assert everything["key"] == {} and everything["requests"] == 5
    assert everything["latencyP50Ms"] == 200.0


async def test_totals_of_an_empty_range_are_zeros(stats: UsageStats) -> None:
    """Found by fuzzing /api/stats/totals: one group of no rows summed to NULL, a 500."""
    (nothing,) = await stats.totals(GroupBy.NONE, TimeRange(T0 - 600, T0 - 300))
    assert (nothing["requests"], nothing["errors"], nothing["fallthroughs"]) == (0, 0, 0)
    assert nothing["clientClosed"] == 0 and nothing["errorRate"] == 0.0


async def test_series_has_one_point_per_bucket_including_empty_ones(stats: UsageStats) -> None:
    (overall,) = await stats.series(GroupBy.NONE, TimeRange(T0, T0 + 240), BucketSize.MINUTE)
    points = overall["points"]
    assert [p["t"] for p in points] == [(T0 + 60 * i) * MS for i in range(4)]
    assert [p["requests"] for p in points] == [2, 2, 1, 0]
    assert [p["errors"] for p in points] == [0, 1, 0, 0]
    assert [p["fallthroughRate"] for p in points] == [0.5, 0.5, 1.0, 0.0]
    assert [p["latencyP95Ms"] for p in points] == [200.0, 300.0, 400.0, None]
    assert points[3]["latencyP50Ms"] is None
    per_chain = await stats.series(GroupBy.CHAIN, WHEN, BucketSize.HOUR)
    assert {s["key"]["chain"]: [p["requests"] for p in s["points"]] for s in per_chain} == {
        "fast": [3],
        "smart": [2],
    }


async def test_outcomes_count_every_attempt_per_provider(stats: UsageStats) -> None:
    found = {o["key"]["provider"]: o for o in await stats.outcomes(GroupBy.PROVIDER, WHEN)}
    assert found["groq"]["outcomes"] == {"served": 3, "skipped": 1}
    assert found["cerebras"]["outcomes"] == {"rate_limited": 3, "served": 1}
    assert found["mistral"] == {
        "key": {"provider": "mistral"},
        "attempts": 1,
        "outcomes": {"rate_limited": 1},
    }


async def test_request_log_pages_by_cursor_with_attempts(stats: UsageStats) -> None:
    seen: list[str] = []
    cursor: tuple[float, int] | None = None
    while True:
        page = await stats.request_log(LogQuery(limit=2, before=cursor))
        seen.extend(r["requestId"] for r in page.rows)
        if page.next_cursor is None:
            break
        at, row_id = page.next_cursor.split(":")
        cursor = (float(at), int(row_id))
    assert seen == ["outside", "a5", "a4", "a3", "a2", "a1"]
    page = await stats.request_log(LogQuery(limit=1, chain="smart"))
    (row,) = page.rows
    assert row["requestId"] == "a5" and page.next_cursor is not None
    assert [(a["position"], a["provider"], a["outcome"]) for a in row["attempts"]] == [
        (0, "cerebras", "rate_limited"),
        (1, "mistral", "rate_limited"),
        (2, "groq", "served"),
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (LogQuery(provider="groq"), ["outside", "a5", "a2", "a1"]),
        (LogQuery(status=(400, 499)), ["a4"]),
        (LogQuery(status=(200, 200), chain="fast"), ["a2", "a1"]),
        (LogQuery(start=T0 + 60, end=T0 + 100), ["a4", "a3"]),
    ],
)
async def test_request_log_filters(stats: UsageStats, query: LogQuery, expected: list[str]) -> None:
    page = await stats.request_log(query)
    assert [r["requestId"] for r in page.rows] == expected
    assert page.next_cursor is None


@given(
    st.floats(min_value=0, max_value=4e9),
    st.floats(min_value=1e-3, max_value=1e7),
    st.sampled_from(list(BucketSize)),
)
def test_bucket_count_is_the_number_of_points_a_series_has(
    start: float, span: float, bucket: BucketSize
) -> None:
    when = TimeRange(start, start + span)
    assert bucket_count(when, bucket) == len(bucket_starts(when, bucket))
