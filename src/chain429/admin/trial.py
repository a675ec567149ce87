"""One test prompt through the real waterfall, as a client's request would go: admission,
fall-through, queue mode and the usage record alike. What the client would have been sent is
kept by a `CapturingChannel`, the request's record is taken from the `RecordTap` on its way to
the database, and the two make a `TrialResult`.

Test requests are told apart by their id: `test_…` where a client's is `req_…`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import orjson

from chain429.admin.capture import CapturingChannel, StreamListener
from chain429.admin.route_error import RouteError
from chain429.config.schema import Config
from chain429.openai_errors import ErrorType
from chain429.router.request import ClientRequest, Endpoint
from chain429.state import AppState
from chain429.usage.records import RequestRecord

TEST_ID_PREFIX = "test_"
DEFAULT_PROMPT = "Say hello in one word."


@dataclass(frozen=True, slots=True)
class TrialResult:
    """What one test request got: the capture of its answer and the record the router made."""

    request_id: str
    target: str
    channel: CapturingChannel
    record: RequestRecord


def new_test_request_id() -> str:
    return f"{TEST_ID_PREFIX}{secrets.token_hex(10)}"


def resolve_target(
    config: Config,
    chain: str | None = None,
    provider: str | None = None,
    model: str | None = None,
) -> str:
    """The `model` a test request asks for: a chain's name (the default chain when none is
    named) or `provider/model`. An unknown chain or provider is a 404."""
    if provider is not None:
        if not any(p.id == provider for p in config.providers):
            message = f"Provider '{provider}' not found."
            raise RouteError(404, message, "provider_not_found", ErrorType.NOT_FOUND, "provider")
        return f"{provider}/{model}"
    name = chain or config.settings.default_chain
    if config.chain(name) is None:
        raise RouteError(404, f"Chain '{name}' not found.", "chain_not_found", ErrorType.NOT_FOUND)
    return name


def chat_request(
    request_id: str,
    model: str,
    messages: list[dict[str, Any]],
    *,
    max_tokens: int | None,
    stream: bool,
    now: float,
    temperature: float | None = None,
) -> ClientRequest:
    """A chat request as the proxy would have parsed it from a client."""
    body: dict[str, Any] = {"model": model, "messages": messages, "stream": stream}
    if max_tokens is not None:
        body["max_tokens"] = max_tokens
    if temperature is not None:
        body["temperature"] = temperature
    return ClientRequest(
        request_id=request_id,
        endpoint=Endpoint.CHAT,
        body=body,
        model=model,
        stream=stream,
        wants_usage=False,
        estimated_tokens=len(orjson.dumps(body)) // 4 + 1,
        max_tokens=max_tokens,
        started_at=now,
    )


async def run_trial(
    state: AppState,
    target: str,
    messages: list[dict[str, Any]],
    *,
    max_tokens: int | None = None,
    temperature: float | None = None,
    listener: StreamListener | None = None,
) -> TrialResult:
    """Send `messages` to `target` through the waterfall; streamed when a `listener` hears
    the stream as it comes."""
    request_id = new_test_request_id()
    request = chat_request(
        request_id,
        target,
        messages,
        max_tokens=max_tokens,
        stream=listener is not None,
        now=state.clock.wall(),
        temperature=temperature,
    )
    channel = CapturingChannel(listener)
    with state.record_tap.watch(request_id) as watch:
        await state.waterfall.serve(request, channel)
    # The waterfall makes exactly one record per request before `serve` returns.
    assert watch.record is not None, "the waterfall made no record"
    return TrialResult(request_id, target, channel, watch.record)
