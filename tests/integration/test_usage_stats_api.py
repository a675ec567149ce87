"""The statistics API of the real app on loopback, over a usage database written beforehand."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from chain429.app import AppOptions, create_app
from chain429.usage.writer import BatchWriter
from tests.support.clock import FakeClock
from tests.support.proxy import CLIENT_KEY, make_config
from tests.support.usage_db import usage_settings
from tests.support.usage_records import T0, exhausted, open_store, served

NOW = T0 + 600
UNUSED_URL = "http://127.0.0.1:9"


@asynccontextmanager
async def serving(db_path: str) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    """Traffic through chain `fast` (groq, cerebras); chain `default` and provider `idle` are
    configured and have none."""
    async with open_store(db_path) as store:
        writer = BatchWriter(store)
        for i in range(7):
            writer.submit(served(f"ok{i}", at=T0 + 60 * i, fallen_from=("cerebras",) * (i % 2)))
        writer.submit(exhausted("bad", at=T0 + 30))
        await writer.close()
    config = make_config(
        [("groq", UNUSED_URL), ("cerebras", UNUSED_URL), ("idle", UNUSED_URL)],
        chain=[("idle", "m")],
        extra_chains={"fast": [("groq", "m"), ("cerebras", "m")]},
        settings=usage_settings(db_path),
    )
    app = create_app(config, AppOptions(clock=FakeClock(NOW)))
    headers = {"Authorization": f"Bearer {CLIENT_KEY}"}
    async with TestClient(TestServer(app, host="127.0.0.1"), headers=headers) as test_client:
        yield test_client


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    """`serving` on SQLite: for the checks of parameters, which read no figure."""
    async with serving(str(tmp_path / "usage.db")) as test_client:
        yield test_client


@pytest.fixture
async def both(usage_database: str) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    """`serving` on SQLite, then on PostgreSQL: the figures must be the same on both."""
    async with serving(usage_database) as test_client:
        yield test_client


Client = TestClient[web.Request, web.Application]


async def _get(client: Client, path: str, status: int = 200) -> Any:
    response = await client.get(path)
    assert response.status == status, await response.text()
    assert response.content_type == "application/json"
    return await response.json()


async def test_v1_stats_in_the_original_shapes(both: Client) -> None:
    summary = await _get(both, "/v1/stats/summary")
    assert summary == {"summary": {"totalRequests": 8, "waterfallRequests": 4, "avgLatencyMs": 88}}
    providers = await _get(both, "/v1/stats/providers")
    assert providers["providers"][0]["providerId"] == "groq"
    groq = await _get(both, "/v1/stats/providers/groq")
    assert groq == providers["providers"][0] and groq["totalRequests"] == 7
    chains = await _get(both, "/v1/stats/chains")
    assert chains["chains"][0]["chainName"] == "fast"
    assert (await _get(both, "/v1/stats/chains/fast"))["totalRequests"] == 8
    recent = await _get(both, "/v1/stats/requests?limit=3")
    assert [r["timestamp"] for r in recent["requests"]] == [
        (T0 + 360) * 1000,
        (T0 + 300) * 1000,
        (T0 + 240) * 1000,
    ]
    assert len((await _get(both, "/v1/stats/requests"))["requests"]) == 8


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


@pytest.mark.parametrize("path", ["/v1/stats/requests", "/api/stats/requests"])
async def test_a_limit_above_the_cap_is_a_400_naming_the_cap(client: Client, path: str) -> None:
    body = await _get(client, f"{path}?limit=501", 400)
    assert body["error"]["param"] == "limit"
    assert "at most 500" in body["error"]["message"]
    await _get(client, f"{path}?limit=500")


RANGED_ROUTES = ["/api/stats/totals", "/api/stats/series", "/api/stats/outcomes"]


@pytest.mark.parametrize("path", [*RANGED_ROUTES, "/api/stats/requests"])
async def test_a_reversed_range_is_a_400_on_every_stats_route(client: Client, path: str) -> None:
    later, earlier = int(T0 + 120) * 1000, int(T0) * 1000
    body = await _get(client, f"{path}?from={later}&to={earlier}", 400)
    assert body["error"]["param"] == "from"
    assert body["error"]["message"] == "from must be earlier than to"


async def test_a_series_of_more_than_1440_buckets_per_group_is_a_400(both: Client) -> None:
    start, end = int(T0) * 1000, int(T0 + 86_400) * 1000
    fits = await _get(both, f"/api/stats/series?bucket=minute&from={start}&to={end}")
    assert {len(group["points"]) for group in fits["data"]} == {1440}
    response = await both.get(f"/api/stats/series?bucket=minute&from={start}&to={end + 1}")
    assert response.status == 400
    assert len(await response.read()) < 500
    error = (await response.json())["error"]
    assert error["param"] == "bucket"
    assert "1441 minute buckets" in error["message"] and "1440" in error["message"]
    assert "bucket=hour" in error["message"]


@pytest.mark.parametrize("path", RANGED_ROUTES)
async def test_every_grouped_route_groups_by_provider_by_default(both: Client, path: str) -> None:
    body = await _get(both, f"{path}?from={int(T0) * 1000}")
    assert body["groupBy"] == "provider"
    assert {row["key"]["provider"] for row in body["data"]} >= {"groq"}


async def test_a_configured_provider_or_chain_without_traffic_has_zero_counters(
    both: Client,
) -> None:
    zeros = {
        "totalRequests": 0,
        "totalTokens": 0,
        "totalPromptTokens": 0,
        "totalCompletionTokens": 0,
        "lastRequestTimestamp": None,
    }
    assert await _get(both, "/v1/stats/providers/idle") == {"providerId": "idle", **zeros}
    assert await _get(both, "/v1/stats/chains/default") == {"chainName": "default", **zeros}
    providers = (await _get(both, "/v1/stats/providers"))["providers"]
    assert [p["providerId"] for p in providers] == ["groq", "cerebras", "idle"]
    chains = (await _get(both, "/v1/stats/chains"))["chains"]
    assert [c["chainName"] for c in chains] == ["fast", "default"]


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


async def test_totals_default_to_the_last_day(both: Client) -> None:
    body = await _get(both, "/api/stats/totals")
    assert (body["from"], body["to"]) == ((NOW - 86_400) * 1000, NOW * 1000)
    assert body["groupBy"] == "provider"
    by_provider = {row["key"]["provider"]: row for row in body["data"]}
    assert by_provider["groq"]["requests"] == 7 and by_provider[None]["errors"] == 1


async def test_series_accepts_iso_times_and_buckets(both: Client) -> None:
    start, end = T0 * 1000, (T0 + 180) * 1000
    body = await _get(both, f"/api/stats/series?bucket=minute&groupBy=none&from={start}&to={end}")
    assert body["bucketSeconds"] == 60
    (overall,) = body["data"]
    assert [p["requests"] for p in overall["points"]] == [2, 1, 1]
    iso = await _get(both, "/api/stats/series?bucket=day&groupBy=chain&from=2027-01-15T00:00:00Z")
    assert iso["from"] == 1_799_971_200_000 == (T0 - 8 * 3600) * 1000
    (fast,) = iso["data"]
    assert fast["key"] == {"chain": "fast"}
    assert [(p["t"], p["requests"]) for p in fast["points"]] == [(iso["from"], 8)]


async def test_request_log_pages_with_filters(both: Client) -> None:
    first = await _get(both, "/api/stats/requests?limit=3&provider=groq")
    assert [r["requestId"] for r in first["data"]] == ["ok6", "ok5", "ok4"]
    assert first["data"][0]["attempts"][0]["outcome"] == "served"
    second = await _get(
        both, f"/api/stats/requests?limit=3&provider=groq&cursor={first['nextCursor']}"
    )
    assert [r["requestId"] for r in second["data"]] == ["ok3", "ok2", "ok1"]
    errors = await _get(both, "/api/stats/requests?status=error")
    assert [r["requestId"] for r in errors["data"]] == ["bad"]
    assert errors["nextCursor"] is None
    assert [a["outcome"] for a in errors["data"][0]["attempts"]] == ["skipped", "rate_limited"]


STATS_PATHS = [
    "/v1/stats/summary",
    "/v1/stats/providers",
    "/v1/stats/providers/groq",
    "/v1/stats/chains",
    "/v1/stats/chains/default",
    "/v1/stats/requests",
    *RANGED_ROUTES,
    "/api/stats/requests",
]


async def test_with_recording_off_every_stats_route_says_so(proxy_factory, http) -> None:
    config = make_config([("groq", UNUSED_URL)], settings={"recordUsage": False})
    server = await proxy_factory(config)
    headers = {"Authorization": f"Bearer {CLIENT_KEY}"}
    for path in STATS_PATHS:
        async with http.get(server.url + path, headers=headers) as response:
            assert response.status == 409, path
            error = (await response.json())["error"]
        assert error["code"] == "usage_recording_off"
        assert "usage recording is off (settings.recordUsage: false)" in error["message"]
        assert set(error) == {"message", "type", "param", "code"}
