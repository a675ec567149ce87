"""Turn a client's raw body into a `ClientRequest`, or say exactly what is wrong with it.

The body is parsed once; only what routing needs is read, every other field is forwarded as is.
"""

from __future__ import annotations

import itertools
import os
import time
from typing import Any

import orjson

from chain429.errors import Chain429Error
from chain429.router.request import ClientRequest, Endpoint

#: Request ids: a random prefix per process and a counter (uuid4 costs a system call each).
_ID_PREFIX = f"req_{os.urandom(6).hex()}"
_ids = itertools.count(1)


def next_request_id() -> str:
    return f"{_ID_PREFIX}{next(_ids):010x}"


class BadRequest(Chain429Error):
    """The body is invalid on its face; it never leaves the proxy."""

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param


def parse_request(
    raw: bytes, endpoint: Endpoint, *, now: float | None = None, require_model: bool = False
) -> ClientRequest:
    """Validate a client's body; `now` (the app's clock) stamps its start, the wall clock if
    not given. Without `require_model` (strictModels) a missing `model` is the default chain."""
    if not raw:
        raise BadRequest("The request body is empty; expected a JSON object.")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"The request body is not valid JSON: {exc}.") from exc
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object.")
    model = body.get("model")
    if model is not None and not isinstance(model, str):
        raise BadRequest("'model' must be a string.", "model")
    if require_model and not model:
        raise BadRequest("'model' is required (strictModels is on).", "model")
    if endpoint is Endpoint.CHAT:
        _check_messages(body)
    else:
        _check_prompt(body)
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise BadRequest("'stream' must be a boolean.", "stream")
    options = body.get("stream_options")
    wants_usage = isinstance(options, dict) and options.get("include_usage") is True
    max_tokens = _max_tokens(body)
    return ClientRequest(
        request_id=next_request_id(),
        endpoint=endpoint,
        body=body,
        model=model,
        stream=stream,
        wants_usage=wants_usage,
        estimated_tokens=len(raw) // 4 + 1,
        max_tokens=max_tokens,
        started_at=time.time() if now is None else now,
    )


def _check_messages(body: dict[str, Any]) -> None:
    if "messages" not in body:
        raise BadRequest("'messages' is required.", "messages")
    messages = body["messages"]
    if not isinstance(messages, list):
        raise BadRequest("'messages' must be an array of message objects.", "messages")
    if not messages:
        raise BadRequest("'messages' must contain at least one message.", "messages")
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            raise BadRequest(f"'messages[{index}]' must be an object.", f"messages[{index}]")


def _check_prompt(body: dict[str, Any]) -> None:
    if "prompt" not in body:
        raise BadRequest("'prompt' is required.", "prompt")
    prompt = body["prompt"]
    if not isinstance(prompt, str | list):
        raise BadRequest("'prompt' must be a string or an array.", "prompt")


def _max_tokens(body: dict[str, Any]) -> int | None:
    for name in ("max_completion_tokens", "max_tokens"):
        value = body.get(name)
        if value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise BadRequest(f"'{name}' must be a non-negative integer.", name)
        return value
    return None
