"""The statistics API over a real aiohttp server on loopback, with only the stats routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from chain429.admin.stats_routes import stats_routes
from chain429.clock import FakeClock
from chain429.usage.writer import BatchWriter
from tests.unit.usage.usage_records import T0, exhausted, open_store, served

NOW = T0 + 600


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    async with open_store(tmp_path / "usage.db") as store:
        writer = BatchWriter(store)
        for i in range(7):
            writer.submit(served(f"ok{i}", at=T0 + 60 * i, fallen_from=("cerebras",) * (i % 2)))
        writer.submit(exhausted("bad", at=T0 + 30))
        await writer.close()
        app = web.Application()
        app.add_routes(stats_routes(store, clock=FakeClock(NOW)))
        async with TestClient(TestServer(app, host="127.0.0.1")) as test_client:
            yield test_client


Client = TestClient[web.Request, web.Application]


async def _get(client: Client, path: str, status: int = 200) -> Any:
    response = await client.get(path)
    assert response.status == status, await response.text()
    assert response.content_type == "application/json"
    return await response.json()


async def test_v1_stats_in_the_original_shapes(client: Client) -> None:
    summary = await _get(client, "/v1/stats/summary")
    assert summary == {"summary": {"totalRequests": 8, "waterfallRequests": 4, "avgLatencyMs": 88}}
    providers = await _get(client, "/v1/stats/providers")
    assert [p["providerId"] for p in providers["providers"]] == ["groq"]
    groq = await _get(client, "/v1/stats/providers/groq")
    assert groq == providers["providers"][0] and groq["totalRequests"] == 7
    chains = await _get(client, "/v1/stats/chains")
    assert chains["chains"][0]["chainName"] == "fast"
    assert (await _get(client, "/v1/stats/chains/fast"))["totalRequests"] == 8
    recent = await _get(client, "/v1/stats/requests?limit=3")
    assert [r["timestamp"] for r in recent["requests"]] == [
        (T0 + 360) * 1000,
        (T0 + 300) * 1000,
        (T0 + 240) * 1000,
    ]
    assert len((await _get(client, "/v1/stats/requests"))["requests"]) == 8


async def test_unknown_provider_or_chain_is_an_openai_shaped_404(client: Client) -> None:
    body = await _get(client, "/v1/stats/providers/nobody", 404)
    assert body["error"]["message"] == "No usage data for provider"
    body = await _get(client, "/v1/stats/chains/none", 404)
    assert set(body["error"]) == {"message", "type", "param", "code"}


@pytest.mark.parametrize("path", ["/v1/stats/requests", "/api/stats/requests"])
@pytest.mark.parametrize("limit", ["-1", "0", "abc", "1.5", "", "1e3", "99999999999999999999999"])
async def test_a_bad_limit_is_a_400_never_every_row(client: Client, path: str, limit: str) -> None:
    body = await _get(client, f"{path}?limit={limit}", 400)
    assert body["error"]["type"] == "invalid_request_error"
    assert body["error"]["param"] == "limit"
    assert body["error"]["message"]


async def test_a_huge_limit_is_capped(client: Client) -> None:
    body = await _get(client, "/v1/stats/requests?limit=100000")
    assert len(body["requests"]) == 8


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("/api/stats/totals?groupBy=planet", "groupBy"),
        ("/api/stats/totals?from=yesterday", "from"),
        ("/api/stats/totals?from=2000&to=1000", "from"),
        ("/api/stats/totals?to=nan", "to"),
        ("/api/stats/series?bucket=week", "bucket"),
        ("/api/stats/series?bucket=minute&from=0", "bucket"),
        ("/api/stats/outcomes?groupBy=", None),
        ("/api/stats/requests?status=6xx", "status"),
        ("/api/stats/requests?status=42", "status"),
        ("/api/stats/requests?cursor=abc", "cursor"),
        ("/api/stats/requests?cursor=-5", "cursor"),
    ],
)
async def test_parameters_are_validated(client: Client, query: str, param: str | None) -> None:
    response = await client.get(query)
    if param is None:
        assert response.status == 200
        return
    assert response.status == 400
    assert (await response.json())["error"]["param"] == param


async def test_totals_default_to_the_last_day(client: Client) -> None:
    body = await _get(client, "/api/stats/totals")
    assert (body["from"], body["to"]) == ((NOW - 86_400) * 1000, NOW * 1000)
    assert body["groupBy"] == "provider"
    by_provider = {row["key"]["provider"]: row for row in body["data"]}
    assert by_provider["groq"]["requests"] == 7 and by_provider[None]["errors"] == 1


async def test_series_accepts_iso_times_and_buckets(client: Client) -> None:
    start, end = T0 * 1000, (T0 + 180) * 1000
    body = await _get(client, f"/api/stats/series?bucket=minute&from={start}&to={end}")
    assert body["bucketSeconds"] == 60
    (overall,) = body["data"]
    assert [p["requests"] for p in overall["points"]] == [2, 1, 1]
    iso = await _get(client, "/api/stats/series?bucket=day&groupBy=chain&from=2027-01-15T00:00:00Z")
    assert iso["from"] == 1_799_971_200_000 == (T0 - 8 * 3600) * 1000
    (fast,) = iso["data"]
    assert fast["key"] == {"chain": "fast"}
    assert [(p["t"], p["requests"]) for p in fast["points"]] == [(iso["from"], 8)]


async def test_request_log_pages_with_filters(client: Client) -> None:
    first = await _get(client, "/api/stats/requests?limit=3&provider=groq")
    assert [r["requestId"] for r in first["data"]] == ["ok6", "ok5", "ok4"]
    assert first["data"][0]["attempts"][0]["outcome"] == "served"
    second = await _get(
        client, f"/api/stats/requests?limit=3&provider=groq&cursor={first['nextCursor']}"
    )
    assert [r["requestId"] for r in second["data"]] == ["ok3", "ok2", "ok1"]
    errors = await _get(client, "/api/stats/requests?status=error")
    assert [r["requestId"] for r in errors["data"]] == ["bad"]
    assert errors["nextCursor"] is None
    assert [a["outcome"] for a in errors["data"][0]["attempts"]] == ["skipped", "429"]
