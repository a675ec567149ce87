"""Text from outside is made safe where it enters, so what reaches the usage sink (and from it
the request log line and the database, which no longer redact) is already free of keys: an
upstream's echo in an error body, a 200 carrying an error, an error event in a stream, and a
key a client pasted as the model. The client's answers carry no key either.

tests/integration/test_usage_e2e_redaction.py searches the real log, database and answers of
`429chain serve` for the same thing."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from aiohttp import web

from chain429.app import AppOptions
from chain429.usage.records import MemorySink, RequestRecord
from tests.support.client import chat
from tests.support.clock import FakeClock
from tests.support.leaky_upstream import echo_error, echo_in_band, echo_plain, echo_text
from tests.support.polling import eventually
from tests.support.proxy import CLIENT_KEY, PROVIDER_KEY, make_config
from tests.support.upstream import Behaviour, ok, reply, sse

SECRETS = (PROVIDER_KEY, CLIENT_KEY)


def pieces(text: str) -> list[str]:
    """Every 8-character piece of a secret found in `text`."""
    return [s[i : i + 8] for s in SECRETS for i in range(len(s) - 7) if s[i : i + 8] in text]


def record_text(record: RequestRecord) -> str:
    attempts = [(a.provider_id, a.model, a.key_label, a.reason) for a in record.attempts]
    return repr((record.chain, record.requested_model, record.error_class, attempts))


def echo_before_content() -> Behaviour:
    """An error object quoting the key, and a URL, before any content: the whole 200 body, or
    the first event of a stream."""

    async def behaviour(request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        message = f"{echo_text(request)} see https://errors.example/{PROVIDER_KEY}"
        error = {"error": {"message": message, "code": PROVIDER_KEY[-12:]}}
        if body.get("stream"):
            return await sse([orjson.dumps(error)])(request, body)
        return await reply(body=error)(request, body)

    return behaviour


async def records_of(sink: MemorySink, count: int) -> list[RequestRecord]:
    await eventually(lambda: len(sink.records) >= count, what=f"{count} records")
    return sink.records


@pytest.mark.parametrize("stream", [False, True])
async def test_upstream_echoes_reach_neither_the_record_nor_the_client(
    upstream_factory, proxy_factory, http, stream: bool
):
    body_echo = await upstream_factory(echo_error(401))
    page_echo = await upstream_factory(echo_plain(503))
    in_band = await upstream_factory(echo_before_content())
    fallback = await upstream_factory(ok())
    upstreams = [
        ("body", body_echo.base_url),
        ("page", page_echo.base_url),
        ("inband", in_band.base_url),
        ("ok", fallback.base_url),
    ]
    sink = MemorySink()
    server = await proxy_factory(make_config(upstreams), AppOptions(FakeClock(), sink=sink))

    answer = await chat(http, server, stream=stream)

    assert answer.status == 200
    [record] = await records_of(sink, 1)
    reasons = [a.reason for a in record.attempts]
    assert len(reasons) == 4 and all("[redacted]" in r for r in reasons[:3]), reasons
    assert "[url]" in reasons[2]
    assert not pieces(record_text(record)), record_text(record)
    assert not pieces(answer.body.decode()), answer.body


async def test_a_rejection_passed_to_the_client_carries_no_key(
    upstream_factory, proxy_factory, http
):
    rejecting = await upstream_factory(echo_error(400))
    sink = MemorySink()
    config = make_config([("strict", rejecting.base_url)])
    server = await proxy_factory(config, AppOptions(FakeClock(), sink=sink))

    answer = await chat(http, server)

    assert answer.status == 400
    assert "Incorrect API key provided: [redacted]" in answer.error["message"]
    assert not pieces(answer.body.decode()), answer.body
    [record] = await records_of(sink, 1)
    assert not pieces(record_text(record)), record_text(record)


@pytest.mark.parametrize("strict", [False, True])
async def test_a_key_pasted_as_the_model_is_not_on_the_record(
    upstream_factory, proxy_factory, http, strict: bool
):
    fallback = await upstream_factory(ok())
    sink = MemorySink()
    config = make_config([("ok", fallback.base_url)], settings={"strictModels": strict})
    server = await proxy_factory(config, AppOptions(FakeClock(), sink=sink))

    answer = await chat(http, server, model=PROVIDER_KEY)

    assert answer.status == (404 if strict else 200)
    [record] = await records_of(sink, 1)
    assert record.requested_model == "[redacted]"
    assert record.chain == ("[redacted]" if strict else "default")


async def test_an_error_event_relayed_mid_stream_carries_no_key(
    upstream_factory, proxy_factory, http
):
    breaking = await upstream_factory(echo_in_band())
    sink = MemorySink()
    server = await proxy_factory(
        make_config([("inband", breaking.base_url)]), AppOptions(FakeClock(), sink=sink)
    )

    answer = await chat(http, server, stream=True)

    [_, event] = answer.chunks()
    assert "Incorrect API key provided: [redacted]" in event["error"]["message"]
    assert not pieces(answer.body.decode()), answer.body
    [record] = await records_of(sink, 1)
    assert not pieces(record_text(record)), record_text(record)
