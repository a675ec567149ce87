"""What an upstream SSE event means to the waterfall, and how events are rewritten for clients.

Before the commit point every event is parsed; after it, byte searches keep the common case
(a plain content chunk) free of JSON work and the chunk is relayed as it came.

The searches use `bytes.find`, not `in`: on bytes, `in` first tries its operand as an integer
(`b"a" in b"abc"` could be `97 in b"abc"`) and builds, then drops, a TypeError with a
formatted message: about 1,200 instructions more a test under CPython 3.11, and these run for
every event of every stream.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

import orjson

from chain429.router.sse import DONE


class EventKind(Enum):
    DONE = "done"
    ERROR = "error"
    CONTENT = "content"
    EMPTY = "empty"
    GARBAGE = "garbage"


_CONTENT_FIELDS = (
    "content",
    "tool_calls",
    "function_call",
    "reasoning_content",
    "reasoning",
    "refusal",
)


def classify_event(data: bytes) -> tuple[EventKind, Any]:
    """Kind of a pre-commit event, with its parsed JSON (None for DONE and garbage)."""
    if data == DONE:
        return EventKind.DONE, None
    try:
        obj = orjson.loads(data)
    except orjson.JSONDecodeError:
        return EventKind.GARBAGE, None
    if not isinstance(obj, dict):
        return EventKind.GARBAGE, obj
    if obj.get("error") and not obj.get("choices"):
        return EventKind.ERROR, obj
    for choice in obj.get("choices") or ():
        if not isinstance(choice, dict):
            continue
        delta = choice.get("delta")
        if isinstance(delta, dict) and (
            delta.get("role") or any(delta.get(f) for f in _CONTENT_FIELDS)
        ):
            return EventKind.CONTENT, obj
        if choice.get("text") or choice.get("finish_reason"):
            return EventKind.CONTENT, obj
    return EventKind.EMPTY, obj


def is_error_event(data: bytes) -> bool:
    """A post-commit in-band error (`{"error": ...}` with no choices)."""
    if data.find(b'"error"') < 0:
        return False
    try:
        obj = orjson.loads(data)
    except orjson.JSONDecodeError:
        return False
    return isinstance(obj, dict) and bool(obj.get("error")) and not obj.get("choices")


def has_finish_reason(data: bytes) -> bool:
    return data.find(b'"finish_reason":"') >= 0 or data.find(b'"finish_reason": "') >= 0


def carries_usage(data: bytes) -> bool:
    return (
        data.find(b'"usage"') >= 0
        and data.find(b'"usage":null') < 0
        and data.find(b'"usage": null') < 0
    )


def completion_to_events(obj: dict[str, Any], wants_usage: bool) -> list[bytes]:
    """Turn a whole JSON completion (sent to a stream request) into equivalent SSE events."""
    chunk_object = (
        "chat.completion.chunk" if obj.get("object") == "chat.completion" else "text_completion"
    )
    head = {k: obj[k] for k in ("id", "created", "model", "system_fingerprint") if k in obj}
    choices = []
    for position, choice in enumerate(obj.get("choices") or ()):
        if not isinstance(choice, dict):
            continue
        item: dict[str, Any] = {"index": choice.get("index", position)}
        message = choice.get("message")
        if isinstance(message, dict):
            delta = {k: v for k, v in message.items() if v is not None}
            calls = delta.get("tool_calls")
            if isinstance(calls, list):
                delta["tool_calls"] = [
                    {**c, "index": i} if isinstance(c, dict) else c for i, c in enumerate(calls)
                ]
            item["delta"] = delta
        else:
            item["text"] = choice.get("text", "")
        item["finish_reason"] = choice.get("finish_reason") or "stop"
        choices.append(item)
    events = [orjson.dumps({**head, "object": chunk_object, "choices": choices})]
    usage = obj.get("usage")
    if wants_usage and isinstance(usage, dict):
        events.append(orjson.dumps({**head, "object": chunk_object, "choices": [], "usage": usage}))
    events.append(DONE)
    return events
