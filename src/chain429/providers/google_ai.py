"""Google AI Studio (Gemini) through its OpenAI-compatible endpoint.

No rate-limit headers: a 429 says in its body how long to wait and which quota ran out
(`error_body`, `retry_hints`). Gemma models have no system role, so system instructions are
folded into the first user message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from chain429.config.schema import ProviderType
from chain429.providers.base import ProviderAdapter
from chain429.providers.dialects import Dialect

SYSTEM_ROLES = frozenset({"system", "developer"})


def _text(content: object) -> str:
    """The text of a message's content: a string, or the text parts of a list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [p.get("text") for p in content if isinstance(p, dict)]
        return "\n".join(p for p in parts if isinstance(p, str) and p)
    return ""


def _prepended(instruction: str, content: object) -> object:
    if isinstance(content, list):
        return [{"type": "text", "text": instruction}, *content]
    if isinstance(content, str) and content:
        return f"{instruction}\n\n{content}"
    return instruction


def fold_system_messages(messages: list[Any]) -> list[Any] | None:
    """`messages` with system (and developer) messages removed and their text put before the
    first user message's content (or in a new user message when there is none); None when
    there is no system message."""
    instructions: list[str] = []
    rest: list[Any] = []
    for message in messages:
        if isinstance(message, dict) and message.get("role") in SYSTEM_ROLES:
            text = _text(message.get("content"))
            if text:
                instructions.append(text)
        else:
            rest.append(message)
    if len(rest) == len(messages):
        return None
    if not instructions:
        return rest
    instruction = "\n\n".join(instructions)
    for index, message in enumerate(rest):
        if isinstance(message, dict) and message.get("role") == "user":
            rest[index] = {**message, "content": _prepended(instruction, message.get("content"))}
            return rest
    return [{"role": "user", "content": instruction}, *rest]


@dataclass(frozen=True, slots=True)
class GoogleAIAdapter(ProviderAdapter):
    """Google AI Studio."""

    type: ClassVar[ProviderType] = ProviderType.GOOGLE_AI
    dialect: ClassVar[Dialect] = Dialect.GENERIC

    def prepare(self, body: Mapping[str, Any], model: str) -> dict[str, Any]:
        prepared = {**body, "model": model}
        messages = body.get("messages")
        if "gemma" in model.lower() and isinstance(messages, list):
            folded = fold_system_messages(messages)
            if folded is not None:
                prepared["messages"] = folded
        return prepared
