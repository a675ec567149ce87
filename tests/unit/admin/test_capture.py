"""The capturing channel keeps a whole reply or a stream's text, hands each piece of text to
its listener as it comes, and takes content over reasoning for the answer's text."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from chain429.admin.capture import CapturingChannel, message_text
from tests.support.upstream import chunk, completion


class Listener:
    def __init__(self) -> None:
        self.heard: list[tuple[str, Any]] = []

    async def start(self, headers: Mapping[str, str]) -> None:
        self.heard.append(("start", dict(headers)))

    async def delta(self, text: str, *, reasoning: bool) -> None:
        self.heard.append(("delta", (text, reasoning)))

    async def error(self, error: Mapping[str, Any]) -> None:
        self.heard.append(("error", dict(error)))


def frame(obj: object) -> bytes:
    return b"data: " + orjson.dumps(obj) + b"\n\n"


async def test_a_whole_reply_is_kept_with_its_text():
    channel = CapturingChannel()
    await channel.reply(200, orjson.dumps(completion("Hi")), {"X-Request-Id": "r"})

    assert (channel.answered, channel.headers, channel.streamed) == (
        200,
        {"X-Request-Id": "r"},
        False,
    )
    assert channel.text() == "Hi"


async def test_an_error_reply_has_no_text():
    channel = CapturingChannel()
    await channel.reply(429, b'{"error": {"message": "no"}}', {})
    assert channel.text() is None


async def test_a_stream_is_heard_piece_by_piece_even_split_across_writes():
    listener = Listener()
    channel = CapturingChannel(listener)
    await channel.start_stream({"Content-Type": "text/event-stream"})
    data = frame(chunk({"role": "assistant", "content": ""})) + frame(chunk({"content": "Hel"}))
    await channel.write(data[:30])
    await channel.write(data[30:] + frame(chunk({"reasoning_content": "hm"})))
    await channel.write(frame(chunk({"content": "lo"}, "stop")) + b"data: [DONE]\n\n")

    assert listener.heard == [
        ("start", {"Content-Type": "text/event-stream"}),
        ("delta", ("Hel", False)),
        ("delta", ("hm", True)),
        ("delta", ("lo", False)),
    ]
    assert (channel.answered, channel.streamed, channel.text()) == (200, True, "Hello")


async def test_a_stream_that_only_reasoned_gives_its_reasoning():
    channel = CapturingChannel()
    await channel.start_stream({})
    await channel.write(frame(chunk({"reasoning": "think"})))
    assert channel.text() == "think"


async def test_an_error_event_is_kept_and_heard():
    listener = Listener()
    channel = CapturingChannel(listener)
    await channel.start_stream({})
    await channel.write(frame({"error": {"message": "broke", "code": "upstream_stream_failed"}}))

    assert channel.stream_error == {"message": "broke", "code": "upstream_stream_failed"}
    assert listener.heard[-1] == ("error", {"message": "broke", "code": "upstream_stream_failed"})


async def test_unparseable_events_are_passed_over():
    channel = CapturingChannel()
    await channel.start_stream({})
    await channel.write(b"data: {oops\n\ndata: [1]\n\n" + frame(chunk({"content": "ok"})))
    assert channel.text() == "ok"


def test_message_text_takes_content_then_reasoning_then_a_completions_text():
    reasoned = completion("")
    reasoned["choices"][0]["message"]["reasoning_content"] = "because"
    assert message_text(completion("plain")) == "plain"
    assert message_text(reasoned) == "because"
    assert message_text({"choices": [{"text": "legacy"}]}) == "legacy"
    assert message_text({"choices": []}) is None
    assert message_text({"choices": "x"}) is None
