"""No part of a key leaves 429chain. Known client and provider keys, and a secret a provider
sends in a header (`headers: {api-key: ...}`), go through every path
(success, upstream errors that echo the key in bodies and headers, broken, hanging and refused
upstreams, streams, bad client requests) into `429chain serve` at logLevel debug, once per log
format; then the logs, the database files (with the WAL, while running and after SIGTERM), the
usage tables, the limit-state snapshot, every API answer (the test routes and providers' model
lists included) and the live event stream (read from start to shutdown) are searched for each key
and for every 8-character piece of one. Nothing may match.

One run per log format is shared by the tests below, one test per place a key could end up.
"""

from __future__ import annotations

import re

import pytest
import pytest_asyncio

from tests.support.key_leaks import (
    EXPECTED_OUTCOMES,
    HEADER_SECRET,
    PROVIDER_SECRET,
    SECOND_SECRET,
    Capture,
    leaks,
    run_everything,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=["console", "json"])
async def capture(request, tmp_path_factory) -> Capture:
    return await run_everything(tmp_path_factory.mktemp(f"keys-{request.param}"), request.param)


async def test_the_keys_went_out_were_echoed_and_every_path_was_taken(capture: Capture):
    sent = {f"Bearer {PROVIDER_SECRET}", f"Bearer {SECOND_SECRET}", HEADER_SECRET}
    assert sent <= capture.upstream_keys
    assert EXPECTED_OUTCOMES <= capture.outcomes
    sources = capture.all_sources()
    assert sum(data.count(b"[redacted]") for data in sources.values()) > 10
    assert any(name.endswith("u.db-wal") for name in capture.database_files)
    assert {"json", "sse", "ratelimits", "api", "events", "test"} <= set(capture.answers)


async def test_logs(capture: Capture):
    assert capture.logs["stderr"].count(b"\n") > 90
    assert not leaks(capture.logs)


async def test_usage_tables(capture: Capture):
    assert not leaks({"requests and attempts": capture.usage_tables})


async def test_stats_metrics_health_and_models_answers(capture: Capture):
    assert not leaks(capture.answers["api"])


async def test_limit_state_snapshot(capture: Capture):
    assert not leaks({"limit_state": capture.limit_state})


async def test_database_files_with_the_wal(capture: Capture):
    assert not leaks(capture.database_files)


async def test_ratelimit_answers(capture: Capture):
    assert not leaks(capture.answers["ratelimits"])


async def test_json_answers_of_the_openai_endpoints(capture: Capture):
    assert not leaks(capture.answers["json"])


async def test_streamed_answers(capture: Capture):
    assert not leaks(capture.answers["sse"])


async def test_live_event_stream(capture: Capture):
    stream = capture.answers["events"]["GET /api/events"]
    assert stream.count(b"event: request\n") > 40
    assert b"event: limits\n" in stream and b"[redacted]" in stream
    assert re.search(rb"event_streams_closed\W{1,3}1\b", capture.logs["stderr"]), (
        "ended at shutdown"
    )
    assert not leaks(capture.answers["events"])


async def test_test_route_and_model_list_answers(capture: Capture):
    answers = capture.answers["test"]
    assert any(b"event: delta" in body for body in answers.values())
    assert any(b'"skipped"' in body for body in answers.values())
    assert any(b"GET /models with HTTP 401" in body for body in answers.values())
    assert not leaks(answers)
