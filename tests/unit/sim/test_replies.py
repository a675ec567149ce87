from __future__ import annotations

import orjson

from chain429.sim.replies import (
    DONE_EVENT,
    Endpoint,
    Reply,
    chunk_count,
    completion_body,
    completion_limit,
    count_prompt_tokens,
    reply_words,
    stream_events,
)


def make_reply(endpoint: Endpoint = Endpoint.CHAT, words: int = 5, usage: bool = False) -> Reply:
    text, finish = reply_words("groqsim", "m1", words, None)
    return Reply(endpoint, "id-1", 1_800_000_000, "m1", text, 7, finish, usage)


def decode(events: list[bytes]) -> list[dict]:
    assert events[-1] == DONE_EVENT
    out = []
    for event in events[:-1]:
        assert event.startswith(b"data: ") and event.endswith(b"\n\n")
        out.append(orjson.loads(event[6:]))
    return out


def test_prompt_tokens_are_message_characters_over_four_at_least_one() -> None:
    body = {
        "messages": [{"role": "user", "content": "x" * 10}, {"role": "system", "content": "y" * 7}]
    }
    assert count_prompt_tokens(Endpoint.CHAT, body) == 4
    parts = {"messages": [{"content": [{"type": "text", "text": "z" * 40}, {"type": "image_url"}]}]}
    assert count_prompt_tokens(Endpoint.CHAT, parts) == 10
    assert count_prompt_tokens(Endpoint.CHAT, {"messages": [{"content": ""}]}) == 1
    assert count_prompt_tokens(Endpoint.COMPLETIONS, {"prompt": ["abcd", "efgh"]}) == 2


def test_reply_names_the_provider_and_stops_at_the_completion_limit() -> None:
    words, finish = reply_words("groqsim", "m1", 12, None)
    assert (len(words), words[0], finish) == (12, "[groqsim]", "stop")
    words, finish = reply_words("groqsim", "m1", 12, 3)
    assert (len(words), finish) == (3, "length")
    assert completion_limit({"max_tokens": 3}) == 3
    assert completion_limit({"max_completion_tokens": 2, "max_tokens": 9}) == 2
    assert completion_limit({"max_tokens": None}) is None


def test_chat_body_has_the_openai_shape() -> None:
    body = completion_body(make_reply())
    assert body["object"] == "chat.completion"
    assert body["model"] == "m1"
    assert body["choices"][0]["message"]["content"].startswith("[groqsim] ")
    assert body["usage"] == {"prompt_tokens": 7, "completion_tokens": 5, "total_tokens": 12}


def test_legacy_body_has_text_choices() -> None:
    body = completion_body(make_reply(Endpoint.COMPLETIONS))
    assert body["object"] == "text_completion"
    assert body["choices"][0]["text"].startswith("[groqsim]")


def test_chat_stream_sends_role_content_finish_then_done() -> None:
    chunks = decode(list(stream_events(make_reply(words=5), words_per_chunk=2)))
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    content = [c["choices"][0]["delta"]["content"] for c in chunks[1:-1]]
    assert len(content) == chunk_count(make_reply(words=5), 2) == 3
    assert "".join(content) == make_reply(words=5).text
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert all("usage" not in c for c in chunks)


def test_include_usage_adds_a_final_chunk_with_empty_choices() -> None:
    chunks = decode(list(stream_events(make_reply(usage=True), words_per_chunk=1)))
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"] == {"prompt_tokens": 7, "completion_tokens": 5, "total_tokens": 12}
    assert all(c["usage"] is None for c in chunks[:-1])


def test_legacy_stream_has_text_chunks_and_no_role() -> None:
    chunks = decode(list(stream_events(make_reply(Endpoint.COMPLETIONS), words_per_chunk=1)))
    assert all(c["object"] == "text_completion" for c in chunks)
    assert "".join(c["choices"][0]["text"] for c in chunks) == make_reply().text
