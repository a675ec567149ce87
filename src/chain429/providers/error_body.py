"""Reading an upstream error, whatever shape it came in.

Bodies seen in the wild: `{"error": {"message", "type", "code"}}` (OpenAI and most others),
`{"error": "text"}`, `{"message": ...}` / `{"detail": ...}`, `{"object": "error", ...}` (vLLM),
Gemini's `[{"error": {..., "status", "details": [...]}}]`, HTML from a gateway, or nothing.
What a provider puts in its own shape (Gemini's retry details, OpenRouter's relayed headers and
upstream words) is read by that provider's module, on every body. The same reading applies to an
`error` object inside a 200 body or an SSE event (`in_band_error`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import orjson

from chain429.providers.error_info import UpstreamErrorInfo
from chain429.providers.google_ai import gemini_retry_hint
from chain429.providers.openrouter import embedded_headers, free_models_hint, with_upstream_words
from chain429.providers.retry_hints import RetryHint, message_hint

MAX_MESSAGE_LENGTH = 300
MAX_FIELD_LENGTH = 64
_MAX_JSON_BYTES = 1 << 20
_MAX_TEXT_BYTES = 16_384
_MAX_HTML_CHARS = 4_096
"""Gateway pages say what they are near the top; the cap keeps tag stripping cheap."""
_TITLE = re.compile(r"<title[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)
_INVISIBLE = re.compile(r"<(script|style)\b.*?</\1\s*>|<!--.*?-->", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")
_ENTITIES = {"&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#39;": "'", "&nbsp;": " "}


def clean_text(text: str, limit: int = MAX_MESSAGE_LENGTH) -> str:
    """One printable line of at most `limit` characters (an ellipsis marks a cut)."""
    line = _SPACE.sub(" ", "".join(c if c.isprintable() else " " for c in text[: limit * 4]))
    line = line.strip()
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def _label(value: object) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str | int | float):
        return clean_text(str(value), MAX_FIELD_LENGTH) or None
    return None


def _text_of(value: object) -> str:
    """Message text from a string, or from a list/dict (FastAPI's `detail`) as compact JSON."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    try:
        return orjson.dumps(value).decode()[: MAX_MESSAGE_LENGTH * 2]
    except TypeError:
        return ""


def _first_text(obj: Mapping[str, Any], *keys: str) -> str:
    for key in keys:
        text = _text_of(obj.get(key))
        if text.strip():
            return text
    return ""


def _retry_hint(error: Mapping[str, Any], message: str, now: float | None) -> RetryHint:
    """Every provider's retry hints, whichever provider sent the body: OpenRouter relays its
    upstreams' errors, and a generic entry may front any of them."""
    hint = message_hint(message, now)
    hint = gemini_retry_hint(hint, error.get("details"), now)
    return free_models_hint(hint, message, now)


def _from_object(obj: Mapping[str, Any], now: float | None) -> UpstreamErrorInfo:
    error = obj.get("error")
    if isinstance(error, Mapping):
        message = _first_text(error, "message", "msg", "detail", "details")
        message = with_upstream_words(message, error)
        kind, code, details = error.get("type") or error.get("status"), error.get("code"), error
    else:
        message = _text_of(error) if isinstance(error, str) else ""
        message = message or _first_text(obj, "message", "msg", "detail", "error_message")
        kind, code, details = obj.get("type") or obj.get("status"), obj.get("code"), obj
    hint = _retry_hint(details, message, now)
    return UpstreamErrorInfo(
        message=clean_text(message),
        type=_label(kind),
        code=_label(code),
        retry_at=hint.retry_at,
        reason=hint.reason,
        retry_scope=hint.scope,
        embedded_headers=embedded_headers(error) if isinstance(error, Mapping) else (),
    )


def _html_text(html: str) -> str:
    text = html[:_MAX_HTML_CHARS]
    title = _TITLE.search(text)
    if title and title.group(1).strip():
        body = title.group(1)
    else:
        body = _TAG.sub(" ", _INVISIBLE.sub(" ", text))
    for entity, char in _ENTITIES.items():
        body = body.replace(entity, char)
    return body


def _looks_like_html(text: str) -> bool:
    head = text.lstrip()[:200].lower()
    return head.startswith("<") and any(m in head for m in ("<html", "<!doctype", "<head", "<body"))


def _decode_json(data: bytes) -> object:
    if len(data) > _MAX_JSON_BYTES:
        return None
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return None


def _error_object(decoded: object) -> Mapping[str, Any] | None:
    """The object that describes the error: a dict, or the first dict of a list (Gemini)."""
    if isinstance(decoded, Mapping):
        return decoded
    if isinstance(decoded, list):
        objects = [item for item in decoded[:8] if isinstance(item, Mapping)]
        with_error = [item for item in objects if "error" in item]
        candidates = with_error or objects
        return candidates[0] if candidates else None
    return None


def decode_error_object(body: bytes) -> Mapping[str, Any] | None:
    """The JSON object a body holds (the first object of a list), None when it holds none."""
    return _error_object(_decode_json(body.strip()))


def parse_error_body(body: bytes | None, now: float) -> UpstreamErrorInfo:
    """Read an upstream error body of any shape; never raises."""
    data = (body or b"").strip()
    if not data:
        return UpstreamErrorInfo(message="")
    obj = decode_error_object(data)
    if obj is not None:
        info = _from_object(obj, now)
    else:
        text = data[:_MAX_TEXT_BYTES].decode("utf-8", errors="replace")
        if _looks_like_html(text):
            text = _html_text(text)
        hint = _retry_hint({}, text, now)
        info = UpstreamErrorInfo(
            message=clean_text(text),
            retry_at=hint.retry_at,
            reason=hint.reason,
            retry_scope=hint.scope,
        )
    return info


def in_band_error(obj: Mapping[str, Any], now: float | None = None) -> UpstreamErrorInfo | None:
    """The error carried inside a 200 body or an SSE event payload, None when there is none:
    a non-empty `error` (object or text), or `"object": "error"`."""
    if not isinstance(obj, Mapping):
        return None
    error = obj.get("error")
    # Most bodies have none: `not error` settles them before any (abstract) type check.
    has_error = bool(error) and (
        isinstance(error, Mapping) or (isinstance(error, str) and bool(error.strip()))
    )
    if not has_error and obj.get("object") != "error":
        return None
    return _from_object(obj, now)
