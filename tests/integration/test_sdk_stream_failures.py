"""A committed stream that breaks makes the SDK raise, never end quietly as if complete."""

from __future__ import annotations

import openai
import orjson
import pytest

from tests.support.client import MESSAGES, chat
from tests.support.proxy import make_config
from tests.support.upstream import chunk, reply, sse, standard_events

UNFINISHED = [
    orjson.dumps(chunk({"role": "assistant", "content": ""})),
    orjson.dumps(chunk({"content": "Hel"})),
    orjson.dumps(chunk({"content": "lo"})),
]


async def collect(client: openai.AsyncOpenAI) -> list[str]:
    seen: list[str] = []
    stream = await client.chat.completions.create(model="default", messages=MESSAGES, stream=True)
    async for part in stream:
        if part.choices:
            seen.append(part.choices[0].delta.content or "")
    return seen


@pytest.mark.parametrize(
    ("behaviour", "says"),
    [
        (sse(drop_after=3), "upstream stream broke"),
        (sse(hang_after=3), "upstream sent nothing for 0.2s"),
        (sse(UNFINISHED), "ended before it was complete"),
        (sse(UNFINISHED, trailing_blank=False), "ended before it was complete"),
    ],
    ids=["dropped-connection", "idle-timeout", "no-finish-no-done", "no-finish-cut-event"],
)
async def test_committed_stream_failure_raises_api_error(
    upstream_factory, proxy_factory, client_factory, behaviour, says
):
    a = await upstream_factory(behaviour)
    b = await upstream_factory(sse())
    config = make_config(
        [("a", a.base_url), ("b", b.base_url)], settings={"streamIdleTimeoutMs": 200}
    )
    server = await proxy_factory(config)
    client = client_factory(server)
    seen: list[str] = []
    with pytest.raises(openai.APIError) as caught:
        stream = await client.chat.completions.create(
            model="default", messages=MESSAGES, stream=True
        )
        async for part in stream:
            if part.choices:
                seen.append(part.choices[0].delta.content or "")
    assert says in caught.value.message
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["code"] == "upstream_stream_failed"
    assert "Hel" in seen, "the client had received part of the answer before it broke"
    assert b.calls == 0, "a committed stream is never retried elsewhere"


async def test_error_event_after_commit_is_relayed_and_raises(
    upstream_factory, proxy_factory, client_factory
):
    events = [*UNFINISHED, orjson.dumps({"error": {"message": "overloaded", "code": 503}})]
    a = await upstream_factory(sse(events))
    server = await proxy_factory(make_config([("a", a.base_url)]))
    client = client_factory(server)
    with pytest.raises(openai.APIError) as caught:
        await collect(client)
    assert "overloaded" in caught.value.message


async def test_error_event_ends_the_raw_stream_without_done(upstream_factory, proxy_factory, http):
    a = await upstream_factory(sse(drop_after=3))
    server = await proxy_factory(make_config([("a", a.base_url)]))
    answer = await chat(http, server, stream=True)
    assert answer.status == 200
    events = answer.events()
    assert events[-1] != b"[DONE]"
    assert orjson.loads(events[-1])["error"]["type"] == "upstream_error"


async def test_mid_stream_failures_escalate_to_a_cooldown(
    upstream_factory, proxy_factory, client_factory
):
    """With a threshold of 2, the second broken stream benches the entry: the next request goes
    straight to entry b."""
    a = await upstream_factory(sse(drop_after=3))
    b = await upstream_factory(reply())
    config = make_config(
        [("a", a.base_url), ("b", b.base_url)],
        settings={"midStreamFailureThreshold": 2, "midStreamCooldownMs": 60_000},
    )
    server = await proxy_factory(config)
    client = client_factory(server)
    for _ in range(2):
        with pytest.raises(openai.APIError):
            await collect(client)
    assert a.calls == 2
    raw = await client.chat.completions.with_raw_response.create(model="default", messages=MESSAGES)
    assert raw.headers["x-429chain-provider"].partition("/")[0] == "b"
    assert a.calls == 2


async def test_a_clean_stream_still_succeeds(upstream_factory, proxy_factory, client_factory):
    a = await upstream_factory(sse(standard_events(["a", "b", "c"])))
    server = await proxy_factory(make_config([("a", a.base_url)]))
    client = client_factory(server)
    assert "".join(await collect(client)) == "abc"


@pytest.mark.parametrize(
    "behaviour",
    [sse(drop_after=4), sse(drop_after=5), sse(hang_after=4), sse(hang_after=5)],
    ids=["drop-before-usage", "drop-before-done", "hang-before-usage", "hang-before-done"],
)
async def test_a_stream_that_breaks_after_its_finish_reason_is_complete(
    upstream_factory, proxy_factory, client_factory, http, behaviour
):
    """Some providers drop the connection (or go quiet) instead of sending [DONE]; once the
    finish reason went out the answer is whole, so the client gets [DONE], not an error."""
    a = await upstream_factory(behaviour)
    config = make_config([("a", a.base_url)], settings={"streamIdleTimeoutMs": 200})
    server = await proxy_factory(config)
    client = client_factory(server)
    assert "".join(await collect(client)) == "Hello"
    answer = await chat(http, server, stream=True)
    assert answer.events()[-1] == b"[DONE]"
