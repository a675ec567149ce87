"""Pure: OpenAI-shaped completion bodies, SSE chunks and error bodies for a simulated provider.

A reply is `[name]` followed by filler words; one word is one completion token. Prompt tokens are
the characters of the messages (or prompt) divided by four, at least one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import orjson

_FILLER = (
    "simulated reply from model {model} lorem ipsum dolor sit amet consectetur adipiscing "
    "elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua"
).split()
DONE_EVENT = b"data: [DONE]\n\n"
SSE_HEADERS = {"content-type": "text/event-stream", "cache-control": "no-cache"}
GARBAGE_BODY = b"<html><body><h1>502 Bad Gateway</h1><p>upstream sent garbage</p></body></html>"


class Endpoint(StrEnum):
    CHAT = "chat"
    COMPLETIONS = "completions"


@dataclass(frozen=True, slots=True)
class Reply:
    """Everything needed to answer one successful request."""

    endpoint: Endpoint
    id: str
    created: int
    model: str
    words: tuple[str, ...]
    prompt_tokens: int
    finish_reason: str
    include_usage: bool

    @property
    def completion_tokens(self) -> int:
        return len(self.words)

    @property
    def text(self) -> str:
        return " ".join(self.words)

    def usage(self) -> dict[str, int]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.prompt_tokens + self.completion_tokens,
        }


def count_prompt_tokens(endpoint: Endpoint, body: dict[str, Any]) -> int:
    if endpoint is Endpoint.CHAT:
        chars = sum(
            _content_chars(m.get("content")) for m in body["messages"] if isinstance(m, dict)
        )
    else:
        chars = _content_chars(body.get("prompt"))
    return max(1, chars // 4)


def _content_chars(content: Any) -> int:
    if isinstance(content, str):
        return len(content)
    if isinstance(content, list):
        return sum(_content_chars(part) for part in content)
    if isinstance(content, dict):
        return _content_chars(content.get("text"))
    return 0


def completion_limit(body: dict[str, Any]) -> int | None:
    """`max_completion_tokens` or `max_tokens`, when given as a positive integer."""
    for key in ("max_completion_tokens", "max_tokens"):
        value = body.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


def reply_words(
    provider: str, model: str, wanted: int, limit: int | None
) -> tuple[tuple[str, ...], str]:
    """The words of a reply and its finish reason (`length` when `limit` cut it short)."""
    count = wanted if limit is None else min(wanted, limit)
    words = [f"[{provider}]"]
    while len(words) < count:
        words.append(_FILLER[(len(words) - 1) % len(_FILLER)].format(model=model))
    return tuple(words[:count]), ("length" if count < wanted else "stop")


def completion_body(reply: Reply) -> dict[str, Any]:
    """The non-streamed response body."""
    if reply.endpoint is Endpoint.CHAT:
        choice: dict[str, Any] = {
            "index": 0,
            "message": {"role": "assistant", "content": reply.text, "refusal": None},
            "logprobs": None,
            "finish_reason": reply.finish_reason,
        }
        kind = "chat.completion"
    else:
        choice = {
            "index": 0,
            "text": reply.text,
            "logprobs": None,
            "finish_reason": reply.finish_reason,
        }
        kind = "text_completion"
    return {
        "id": reply.id,
        "object": kind,
        "created": reply.created,
        "model": reply.model,
        "choices": [choice],
        "usage": reply.usage(),
        "system_fingerprint": "fp_sim",
    }


def stream_events(reply: Reply, words_per_chunk: int) -> Iterator[bytes]:
    """Every SSE event of a streamed reply, `[DONE]` included, in order."""
    chat = reply.endpoint is Endpoint.CHAT
    base: dict[str, Any] = {
        "id": reply.id,
        "object": "chat.completion.chunk" if chat else "text_completion",
        "created": reply.created,
        "model": reply.model,
        "system_fingerprint": "fp_sim",
    }
    if reply.include_usage:
        base["usage"] = None
    head = b"data: " + orjson.dumps(base)[:-1] + b',"choices":['
    if chat:
        yield _event(head, _choice(True, {"role": "assistant", "content": ""}, None))
    words = reply.words
    for start in range(0, len(words), words_per_chunk):
        piece = " ".join(words[start : start + words_per_chunk])
        piece = piece if start == 0 else f" {piece}"
        yield _event(head, _choice(chat, {"content": piece} if chat else piece, None))
    yield _event(head, _choice(chat, {} if chat else "", reply.finish_reason))
    if reply.include_usage:
        yield sse_event({**base, "choices": [], "usage": reply.usage()})
    yield DONE_EVENT


def chunk_count(reply: Reply, words_per_chunk: int) -> int:
    """How many content chunks `stream_events` sends."""
    return max(1, -(-reply.completion_tokens // words_per_chunk))


def _choice(chat: bool, delta: Any, finish_reason: str | None) -> dict[str, Any]:
    if chat:
        return {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
    return {"index": 0, "text": delta, "logprobs": None, "finish_reason": finish_reason}


def _event(head: bytes, choice: dict[str, Any]) -> bytes:
    """`head` is the event up to `"choices":[`, the same for every chunk of a reply."""
    return head + orjson.dumps(choice) + b"]}\n\n"


def sse_event(payload: dict[str, Any]) -> bytes:
    return b"data: " + orjson.dumps(payload) + b"\n\n"


def error_body(message: str, kind: str, code: str | int | None) -> dict[str, Any]:
    """The one OpenAI-shaped error body of the simulator."""
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


def status_error_body(status: int, provider: str, model: str) -> dict[str, Any]:
    """A plausible error body for a forced status (`status_override`, bad key, unknown model)."""
    if status == 401:
        return error_body(
            f"[{provider}] Invalid API Key", "invalid_request_error", "invalid_api_key"
        )
    if status == 402:
        return error_body(
            f"[{provider}] Insufficient credits: this account has a negative balance",
            "insufficient_quota",
            402,
        )
    if status == 403:
        return error_body(f"[{provider}] Forbidden", "permission_denied", "forbidden")
    if status == 404:
        return error_body(
            f"[{provider}] The model `{model}` does not exist or you do not have access to it.",
            "invalid_request_error",
            "model_not_found",
        )
    if status >= 500:
        return error_body(f"[{provider}] Internal server error", "server_error", status)
    return error_body(f"[{provider}] Bad request", "invalid_request_error", status)
