"""Moving reasoning text into `content` when `settings.normalizeResponses` is on.

DeepSeek-R1 style models answer in `reasoning_content` (others in `reasoning`) and may leave
`content` empty, so clients that read only `content` see nothing. The rule, the original
429chain's: when a message (non-stream `choices[].message`) or delta (stream `choices[].delta`)
has no content (absent, null or ""), its reasoning text becomes the content and the field it came
from is removed (and the other one too when it repeats the same text). When content is non-empty
nothing changes: the answer is never mixed with the reasoning that led to it.

Inputs are never modified; what changes is rebuilt, the rest is shared with the input, and an
object with nothing to move is returned as it is.
"""

from __future__ import annotations

from typing import Any

REASONING_FIELDS = ("reasoning_content", "reasoning")


def _moved(part: dict[str, Any]) -> dict[str, Any] | None:
    """`part` with its reasoning moved into content, or None when nothing moves."""
    content = part.get("content")
    if content is not None and content != "":
        return None
    for field in REASONING_FIELDS:
        reasoning = part.get(field)
        if isinstance(reasoning, str) and reasoning:
            moved = {k: v for k, v in part.items() if k not in REASONING_FIELDS}
            moved["content"] = reasoning
            for other in REASONING_FIELDS:
                if other in part and other != field and part[other] != reasoning:
                    moved[other] = part[other]
            return moved
    return None


def _normalized(obj: dict[str, Any], part_name: str) -> dict[str, Any]:
    choices = obj.get("choices")
    if not isinstance(choices, list):
        return obj
    new_choices: list[Any] | None = None
    for index, choice in enumerate(choices):
        part = choice.get(part_name) if isinstance(choice, dict) else None
        moved = _moved(part) if isinstance(part, dict) else None
        if moved is None:
            continue
        if new_choices is None:
            new_choices = list(choices)
        new_choices[index] = {**choice, part_name: moved}
    if new_choices is None:
        return obj
    return {**obj, "choices": new_choices}


def normalize_message(obj: dict[str, Any]) -> dict[str, Any]:
    """A non-stream chat completion with reasoning moved into each empty `message.content`."""
    return _normalized(obj, "message")


def normalize_chunk(obj: dict[str, Any]) -> dict[str, Any]:
    """A stream chunk with reasoning moved into each empty `delta.content`."""
    return _normalized(obj, "delta")
