"""End to end, recording on: every kind of request ends as one row in the real SQLite file with
the right attribution and attempts, read back through `/api/stats/requests` and from the file.

A request that failed is attributed to no provider; a request a provider committed to (a stream
that broke, a client that left mid-stream) stays attributed to it.
"""

from __future__ import annotations

import asyncio

import aiohttp

from chain429.state import STATE
from chain429.tasks import create_task
from tests.support.client import MESSAGES, chat, chat_body
from tests.support.polling import eventually
from tests.support.proxy import CLIENT_KEY, PROVIDER_KEY, make_config
from tests.support.upstream import hang, ok, reply, sse
from tests.support.usage_db import (
    logged_request,
    logged_rows,
    stored_request,
    usage_settings,
    wait_until_stored,
)

LABEL = "…" + PROVIDER_KEY[-4:]
RATE_LIMITED = reply(429, {"error": {"message": "slow down"}}, {"retry-after": "60"})


def outcomes(row: dict) -> list[tuple[str, str]]:
    return [(a["provider"], a["outcome"]) for a in row["attempts"]]


async def test_success_through_the_sdk(
    upstream_factory, proxy_factory, client_factory, http, tmp_path
):
    a = await upstream_factory(ok("hello"))
    db = tmp_path / "u.db"
    server = await proxy_factory(make_config([("a", a.base_url)], settings=usage_settings(db)))
    raw = await client_factory(server).chat.completions.with_raw_response.create(
        model="default", messages=MESSAGES
    )
    assert raw.parse().choices[0].message.content == "hello"
    request_id = raw.headers["x-request-id"]

    row = await logged_request(http, server.url, request_id)
    assert (row["provider"], row["model"], row["keyLabel"]) == ("a", "a-model", LABEL)
    assert (row["chain"], row["requestedModel"], row["endpoint"]) == (
        "default",
        "default",
        "/chat/completions",
    )
    assert (row["status"], row["streamed"], row["clientClosed"], row["errorClass"]) == (
        200,
        False,
        False,
        None,
    )
    assert (row["promptTokens"], row["completionTokens"], row["totalTokens"]) == (5, 1, 6)
    assert row["attemptCount"] == 1 and row["latencyMs"] > 0
    (attempt,) = row["attempts"]
    assert (attempt["provider"], attempt["keyLabel"], attempt["outcome"], attempt["status"]) == (
        "a",
        LABEL,
        "served",
        200,
    )

    stored = stored_request(db, request_id)
    assert stored is not None
    assert (stored["provider_id"], stored["model"], stored["key_label"], stored["status"]) == (
        "a",
        "a-model",
        LABEL,
        200,
    )
    assert (stored["prompt_tokens"], stored["completion_tokens"], stored["total_tokens"]) == (
        5,
        1,
        6,
    )
    assert [(t["position"], t["outcome"]) for t in stored["attempts"]] == [(0, "served")]


async def test_stream_success_records_usage_and_ttft(
    upstream_factory, proxy_factory, http, tmp_path
):
    a = await upstream_factory(sse())
    db = tmp_path / "u.db"
    server = await proxy_factory(make_config([("a", a.base_url)], settings=usage_settings(db)))
    answer = await chat(http, server, stream=True)
    assert answer.status == 200 and answer.events()[-1] == b"[DONE]"
    row = await logged_request(http, server.url, answer.headers["X-Request-Id"])
    assert (row["provider"], row["status"], row["streamed"], row["totalTokens"]) == (
        "a",
        200,
        True,
        7,
    )
    assert row["ttftMs"] is not None and 0 < row["ttftMs"] <= row["latencyMs"]
    assert outcomes(row) == [("a", "served")]


async def test_fall_through_is_attributed_to_the_entry_that_served(
    upstream_factory, proxy_factory, http, tmp_path
):
    a = await upstream_factory(RATE_LIMITED)
    b = await upstream_factory(ok())
    db = tmp_path / "u.db"
    config = make_config([("a", a.base_url), ("b", b.base_url)], settings=usage_settings(db))
    server = await proxy_factory(config)
    answer = await chat(http, server)
    assert answer.status == 200 and answer.headers["X-429chain-Provider"].partition("/")[0] == "b"

    row = await logged_request(http, server.url, answer.headers["X-Request-Id"])
    assert (row["provider"], row["model"], row["keyLabel"], row["status"]) == (
        "b",
        "b-model",
        LABEL,
        200,
    )
    assert row["attemptCount"] == 2
    assert outcomes(row) == [("a", "rate_limited"), ("b", "served")]
    assert [a["status"] for a in row["attempts"]] == [429, 200]
    assert row["attempts"][0]["reason"]

    stored = stored_request(db, answer.headers["X-Request-Id"])
    assert stored is not None and stored["provider_id"] == "b" and stored["attempt_count"] == 2
    assert [(t["provider_id"], t["outcome"]) for t in stored["attempts"]] == [
        ("a", "rate_limited"),
        ("b", "served"),
    ]


async def test_all_exhausted_is_attributed_to_no_provider(
    upstream_factory, proxy_factory, http, tmp_path
):
    a = await upstream_factory(RATE_LIMITED)
    b = await upstream_factory(RATE_LIMITED)
    db = tmp_path / "u.db"
    config = make_config([("a", a.base_url), ("b", b.base_url)], settings=usage_settings(db))
    server = await proxy_factory(config)
    first = await chat(http, server)
    assert first.status == 429

    row = await logged_request(http, server.url, first.headers["X-Request-Id"])
    assert (row["status"], row["provider"], row["model"], row["keyLabel"]) == (
        429,
        None,
        None,
        None,
    )
    assert row["errorClass"] == "all_entries_unavailable"
    assert outcomes(row) == [("a", "rate_limited"), ("b", "rate_limited")]
    assert all(a["keyLabel"] == LABEL for a in row["attempts"])

    again = await chat(http, server)
    assert again.status == 429 and (a.calls, b.calls) == (1, 1)
    row = await logged_request(http, server.url, again.headers["X-Request-Id"])
    assert row["provider"] is None
    assert outcomes(row) == [("a", "skipped"), ("b", "skipped")]
    stored = stored_request(db, again.headers["X-Request-Id"])
    assert stored is not None and stored["provider_id"] is None and stored["status"] == 429


async def test_mid_stream_failure(upstream_factory, proxy_factory, http, tmp_path):
    a = await upstream_factory(sse(drop_after=2))
    db = tmp_path / "u.db"
    server = await proxy_factory(make_config([("a", a.base_url)], settings=usage_settings(db)))
    answer = await chat(http, server, stream=True)
    assert answer.status == 200

    row = await logged_request(http, server.url, answer.headers["X-Request-Id"])
    assert row["errorClass"] == "mid_stream_failure"
    assert (row["provider"], row["streamed"], row["clientClosed"]) == ("a", True, False)
    assert outcomes(row) == [("a", "mid_stream_failure")]
    stored = stored_request(db, answer.headers["X-Request-Id"])
    assert stored is not None and stored["error_class"] == "mid_stream_failure"


async def test_client_disconnect_before_an_answer(upstream_factory, proxy_factory, http, tmp_path):
    a = await upstream_factory(hang())
    db = tmp_path / "u.db"
    server = await proxy_factory(make_config([("a", a.base_url)], settings=usage_settings(db)))
    async with aiohttp.ClientSession() as other:
        pending = create_task(chat(other, server), name="leaving-client")
        await asyncio.wait_for(a.request_seen.wait(), 5)
        pending.cancel()

    row = await only_request(http, server.url)
    assert (row["status"], row["clientClosed"], row["errorClass"]) == (499, True, "client_closed")
    assert row["provider"] is None
    assert outcomes(row) == [("a", "client_closed")]
    stored = await wait_until_stored(db, row["requestId"])
    assert (stored["status"], stored["client_closed"]) == (499, 1)


async def test_client_disconnect_mid_stream(upstream_factory, proxy_factory, http, tmp_path):
    gate = asyncio.Event()
    a = await upstream_factory(sse(gate=gate, gate_after=2))
    db = tmp_path / "u.db"
    server = await proxy_factory(make_config([("a", a.base_url)], settings=usage_settings(db)))
    async with aiohttp.ClientSession() as other:
        response = await other.post(
            f"{server.url}/v1/chat/completions",
            json=chat_body(stream=True),
            headers={"Authorization": f"Bearer {CLIENT_KEY}"},
        )
        request_id = response.headers["X-Request-Id"]
        await response.content.readuntil(b"\n\n")
        response.close()

    row = await logged_request(http, server.url, request_id)
    assert (row["status"], row["clientClosed"], row["provider"], row["keyLabel"]) == (
        499,
        True,
        "a",
        LABEL,
    )
    assert outcomes(row) == [("a", "client_closed")]


async def only_request(http: aiohttp.ClientSession, url: str) -> dict:
    """The one row of the request log, once it is there (a client that left saw no id)."""
    (row,) = await logged_rows(http, url, 1)
    return row


async def test_every_key_tried_for_one_entry_is_its_own_attempt(
    upstream_factory, proxy_factory, http, tmp_path
):
    """One entry tried with each key of its provider: the attempts repeat the entry, and the
    record is stored all the same."""
    keys = ["sk-first-key-000000000001", "sk-second-key-00000000002"]
    a = await upstream_factory(RATE_LIMITED)
    b = await upstream_factory(ok())
    db = tmp_path / "u.db"
    config = make_config(
        [("a", a.base_url), ("b", b.base_url)],
        provider_extra={"a": {"apiKey": keys[0], "apiKeys": keys}},
        settings=usage_settings(db),
    )
    server = await proxy_factory(config)
    answer = await chat(http, server)
    assert answer.status == 200 and a.calls == 2

    row = await logged_request(http, server.url, answer.headers["X-Request-Id"])
    assert row["provider"] == "b" and row["attemptCount"] == 3
    assert [
        (t["position"], t["provider"], t["keyLabel"], t["outcome"]) for t in row["attempts"]
    ] == [
        (0, "a", "…" + keys[0][-4:], "rate_limited"),
        (1, "a", "…" + keys[1][-4:], "rate_limited"),
        (2, "b", LABEL, "served"),
    ]


async def test_a_request_served_after_waiting_in_the_queue(
    upstream_factory, proxy_factory, http, tmp_path
):
    """Queue mode walks the chain again when a slot frees: the record keeps the last pass
    and how long the request waited."""
    gate = asyncio.Event()
    a = await upstream_factory(sse(gate=gate, gate_after=2), ok())
    db = tmp_path / "u.db"
    config = make_config(
        [("a", a.base_url)],
        provider_extra={"a": {"rateLimits": {"concurrentRequests": 1}}},
        settings=usage_settings(db, queueMode=True, queueMaxWaitMs=5_000),
    )
    server = await proxy_factory(config)
    async with aiohttp.ClientSession() as other:
        holder = await other.post(
            f"{server.url}/v1/chat/completions",
            json=chat_body(stream=True),
            headers={"Authorization": f"Bearer {CLIENT_KEY}"},
        )
        await holder.content.readuntil(b"\n\n")
        waiting = create_task(chat(http, server), name="queued")
        await eventually(
            lambda: sum(server.app[STATE].waterfall.queues.depths().values()), what="queued"
        )
        gate.set()
        await holder.read()
        answer = await waiting

    assert answer.status == 200
    row = await logged_request(http, server.url, answer.headers["X-Request-Id"])
    assert row["provider"] == "a"
    assert [(t["position"], t["outcome"]) for t in row["attempts"]] == [(0, "served")]
    assert 0 < row["queuedMs"] <= row["latencyMs"]
