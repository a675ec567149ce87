"""The fixed bodies of the overhead benchmark: what the client sends and what the upstream says.

Shaped like a real OpenAI chat completion: a non-streaming JSON answer, and an SSE stream with a
role chunk, ten content chunks, a finish chunk, a usage chunk and `data: [DONE]`.
"""

from __future__ import annotations

import json
from typing import Any

CLIENT_KEY = "bench-client-key-0001"
PROVIDER_KEY = "sk-bench-provider-key-0001"

_ID = "chatcmpl-bench0123456789"
_CREATED = 1_732_600_000
_MODEL = "bench-model"
_WORDS = (
    "Foxes ",
    "are ",
    "small ",
    "omnivorous ",
    "mammals ",
    "with ",
    "bushy ",
    "tails, ",
    "sharp ",
    "hearing.",
)
_USAGE = {"prompt_tokens": 31, "completion_tokens": len(_WORDS), "total_tokens": 31 + len(_WORDS)}


def _dumps(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


def client_request(model: str, *, stream: bool) -> str:
    """The chat request the load generator POSTs; `model` names the proxy chain to use."""
    body: dict[str, Any] = {
        "model": model,
        "messages": [
            {"role": "system", "content": "You are a concise assistant."},
            {"role": "user", "content": "Describe foxes in one short sentence."},
        ],
        "max_tokens": 64,
        "temperature": 0.7,
    }
    if stream:
        body["stream"] = True
    return _dumps(body)


def completion_json() -> str:
    return _dumps(
        {
            "id": _ID,
            "object": "chat.completion",
            "created": _CREATED,
            "model": _MODEL,
            "system_fingerprint": "fp_bench01",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "".join(_WORDS)},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": _USAGE,
        }
    )


def _chunk(delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
    return {
        "id": _ID,
        "object": "chat.completion.chunk",
        "created": _CREATED,
        "model": _MODEL,
        "system_fingerprint": "fp_bench01",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
    }


def sse_events() -> list[str]:
    """The stream's events, each framed (`data: ...` and a blank line), `[DONE]` last: a role
    chunk, one content chunk per word, a finish chunk, a usage chunk."""
    events = [_chunk({"role": "assistant", "content": ""}, None)]
    events += [_chunk({"content": word}, None) for word in _WORDS]
    events.append(_chunk({}, "stop"))
    usage = _chunk({}, None)
    usage["choices"] = []
    usage["usage"] = _USAGE
    events.append(usage)
    return [f"data: {_dumps(e)}\n\n" for e in events] + ["data: [DONE]\n\n"]


def completion_sse() -> str:
    return "".join(sse_events())


def answer_text() -> str:
    """The assistant text both answers carry, to check a reply end to end."""
    return "".join(_WORDS)
