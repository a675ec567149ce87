"""`GET /metrics` over a real aiohttp server, parsed by prometheus_client's own parser."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

from chain429.admin.metrics_routes import metrics_routes
from chain429.usage.metrics import UsageMetrics
from chain429.usage.sink import RecordingSink
from chain429.usage.writer import BatchWriter
from tests.support.clock import FakeClock
from tests.support.proxy import make_config
from tests.support.usage_records import T0, exhausted, open_store, served


async def test_metrics_endpoint_serves_parseable_prometheus_text(tmp_path: Path) -> None:
    async with open_store(tmp_path / "usage.db") as store:
        writer = BatchWriter(store, max_queue=2)
        metrics = UsageMetrics(FakeClock(T0), writer=writer)
        sink = RecordingSink(writer, metrics)
        sink.submit(served("a", fallen_from=("cerebras",), ttft_ms=50))
        sink.submit(served("b"))
        sink.submit(exhausted("c"))
        app = web.Application()
        app.add_routes(metrics_routes(metrics))
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            response = await client.get("/metrics")
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
            text = await response.text()
            openmetrics = await client.get(
                "/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"}
            )
            assert openmetrics.headers["Content-Type"].startswith("application/openmetrics-text")
            assert (await openmetrics.text()).endswith("# EOF\n")
        await writer.close()

    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert {
        "chain429_requests",
        "chain429_attempts",
        "chain429_tokens",
        "chain429_request_latency_seconds",
        "chain429_time_to_first_token_seconds",
        "chain429_usage_queue_depth",
        "chain429_usage_records_dropped",
        "chain429_event_loop_tasks",
        "process_resident_memory_bytes",
        "process_open_fds",
    } <= set(families)
    (tasks,) = families["chain429_event_loop_tasks"].samples
    assert tasks.value >= 1  # at least the scrape's own handler
    assert families["chain429_requests"].type == "counter"
    assert families["chain429_request_latency_seconds"].type == "histogram"
    requests = {
        (s.labels["provider"], s.labels["status"]): s.value
        for s in families["chain429_requests"].samples
        if s.name == "chain429_requests_total"
    }
    assert requests == {("groq", "200"): 2, ("", "429"): 1}
    (depth,) = families["chain429_usage_queue_depth"].samples
    assert depth.value == 2
    dropped = {
        s.labels["reason"]: s.value
        for s in families["chain429_usage_records_dropped"].samples
        if s.name.endswith("_total")
    }
    assert dropped["queue_full"] == 1 and sum(dropped.values()) == 1


async def _metrics_status(proxy_factory, http, settings: dict[str, object]) -> tuple[int, int]:
    """The status of `/metrics` and of `/api/ratelimits` asked without a key."""
    server = await proxy_factory(make_config([("p", "http://127.0.0.1:9")], settings=settings))
    async with http.get(f"{server.url}/metrics") as metrics:
        text = await metrics.text()
    async with http.get(f"{server.url}/api/ratelimits") as ratelimits:
        pass
    if metrics.status == 200:
        assert "chain429_requests" in text
    return metrics.status, ratelimits.status


async def test_metrics_need_a_key_unless_made_public(proxy_factory, http) -> None:
    assert await _metrics_status(proxy_factory, http, {}) == (401, 401)
    assert await _metrics_status(proxy_factory, http, {"metricsPublic": True}) == (200, 401)
