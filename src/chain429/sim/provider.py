"""One simulated provider's state and its decisions: what to answer to each request.

`SimProvider.decide` is synchronous, so checking and consuming the windows is atomic under
concurrency; the server only carries the `Decision` out (sleeps, writes, drops).
"""

from __future__ import annotations

import hashlib
import hmac
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from chain429.clock import Clock
from chain429.sim.config import SimProviderConfig, merge_config
from chain429.sim.dialects import rate_limit_headers, rate_limited_reply
from chain429.sim.replies import (
    Endpoint,
    Reply,
    completion_limit,
    count_prompt_tokens,
    error_body,
    reply_words,
    status_error_body,
)
from chain429.sim.stats import SimStats
from chain429.sim.windows import ProviderWindows

_RESET_KEYS = {"reset", "reset_stats", "resetStats", "reset_windows", "resetWindows"}
_WORDS_CACHE_SIZE = 256
_SECRET_HEADERS = frozenset({"authorization", "x-api-key", "api-key", "cookie"})


class Action(Enum):
    ANSWER = "answer"
    ERROR = "error"
    HANG = "hang"
    DROP = "drop"
    GARBAGE = "garbage"
    INBAND_ERROR = "inband_error"


@dataclass(frozen=True, slots=True)
class Decision:
    """How to answer: `ERROR` sends `body` with `status`; `ANSWER` sends `reply`."""

    action: Action
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] | None = None
    reply: Reply | None = None
    stream: bool = False
    drop_after: int | None = None


def key_fingerprint(api_key: str) -> str:
    """A short, irreversible label of a key, as `/_last_request` reports it."""
    return hashlib.sha256(api_key.encode()).hexdigest()[:12]


class SimProvider:
    """A simulated provider: config, windows, seeded randomness, counters, last request."""

    def __init__(self, config: SimProviderConfig, clock: Clock) -> None:
        self._config = config
        self._clock = clock
        self._windows = ProviderWindows()
        self._rng = random.Random(config.seed)
        self._stats = SimStats()
        self._last_request: dict[str, Any] | None = None
        self._seq = 0
        self._words: dict[tuple[str, int | None], tuple[tuple[str, ...], str]] = {}

    @property
    def config(self) -> SimProviderConfig:
        return self._config

    @property
    def name(self) -> str:
        return self._config.name

    def record_request(
        self, endpoint: str, path: str, headers: Mapping[str, str], body: Any
    ) -> None:
        """Remember the request as received (secrets replaced by a key fingerprint)."""
        kept: dict[str, str] = {}
        token = ""
        for key, value in headers.items():
            name = key.lower()
            if name == "authorization":
                token = value.removeprefix("Bearer ").strip()
            elif name not in _SECRET_HEADERS:
                kept[name] = value
        self._last_request = {
            "endpoint": endpoint,
            "path": path,
            "body": body,
            "headers": kept,
            "key_fingerprint": key_fingerprint(token) if token else None,
        }

    def last_request(self) -> dict[str, Any] | None:
        return self._last_request

    def count_models_request(self) -> None:
        self._stats.models_requests += 1

    def key_info(self, authorization: str | None) -> tuple[int, dict[str, Any]]:
        """`GET /api/v1/key` as OpenRouter answers it: the key's label, credit and limits
        (`rate_limit` from `requestsPerWindow` and `windowSeconds`, `-1` when unlimited)."""
        self._stats.key_requests += 1
        config = self._config
        token = (authorization or "").removeprefix("Bearer ").strip()
        refusal = self._refusal(config.models[0] if config.models else "", authorization)
        if refusal is not None:
            self._stats.by_status[refusal] += 1
            return refusal, status_error_body(refusal, self.name, "")
        requests = config.requests_per_window or -1
        data = {
            "label": f"sk-…{key_fingerprint(token)[:4]}" if token else None,
            "limit": None,
            "limit_remaining": None,
            "usage": 0.0,
            "is_free_tier": config.free_tier,
            "rate_limit": {"requests": requests, "interval": f"{config.window_seconds:g}s"},
        }
        return 200, {"data": data}

    def count_client_disconnect(self) -> None:
        self._stats.client_disconnects += 1

    def decide(self, endpoint: Endpoint, body: Any, authorization: str | None) -> Decision:
        """Decide the answer to one completion request and update windows and counters."""
        stats = self._stats
        stats.requests += 1
        stats.by_endpoint[endpoint.value] += 1
        problem = _invalid(endpoint, body)
        if problem is not None:
            return self._error(400, error_body(problem, "invalid_request_error", None))
        stream = body.get("stream") is True
        if stream:
            stats.streamed += 1
        else:
            stats.non_streamed += 1
        model: str = body["model"]
        refusal = self._refusal(model, authorization)
        if refusal is not None:
            return self._error(refusal, status_error_body(refusal, self.name, model))
        if self._draw(self._config.hang_rate):
            stats.hung += 1
            return Decision(Action.HANG, stream=stream)
        return self._answer(endpoint, body, model, stream)

    def stats(self) -> dict[str, Any]:
        state = self._windows.state(self._config, self._clock.now())
        return {
            "name": self.name,
            "dialect": self._config.dialect.value,
            **self._stats.as_dict(),
            "window": state.as_dict(),
        }

    def configure(self, changes: Mapping[str, Any]) -> SimProviderConfig:
        """Apply a merge of config fields and `reset` / `reset_stats` / `reset_windows` flags."""
        resets = {k for k in _RESET_KEYS if changes.get(k)}
        fields = {k: v for k, v in changes.items() if k not in _RESET_KEYS}
        if fields:
            merged = merge_config(self._config, fields)
            if merged.seed != self._config.seed:
                self._rng = random.Random(merged.seed)
            self._config = merged
            self._words.clear()
        if resets & {"reset", "reset_stats", "resetStats"}:
            self._stats = SimStats()
            self._last_request = None
            self._rng = random.Random(self._config.seed)
        if resets & {"reset", "reset_windows", "resetWindows"}:
            self._windows.reset()
        return self._config

    def _answer(
        self, endpoint: Endpoint, body: dict[str, Any], model: str, stream: bool
    ) -> Decision:
        config, now = self._config, self._clock.now()
        reply = self._reply(endpoint, body, model, now)
        cost = reply.prompt_tokens + reply.completion_tokens
        rejection = self._windows.check(config, now, cost)
        if rejection is not None:
            self._stats.rate_limited += 1
            state = self._windows.state(config, now)
            headers, payload = rate_limited_reply(config, state, rejection, model)
            return self._error(429, payload, headers)
        failure = self._failure(stream)
        if failure is not None:
            return failure
        self._windows.commit(config, now, cost)
        self._stats.prompt_tokens += reply.prompt_tokens
        self._stats.completion_tokens += reply.completion_tokens
        drop_after = config.drop_after_chunks if stream and self._draw(config.drop_rate) else None
        if drop_after is not None:
            self._stats.dropped += 1
        self._stats.by_status[200] += 1
        headers = rate_limit_headers(config, self._windows.state(config, now))
        return Decision(Action.ANSWER, 200, headers, None, reply, stream, drop_after)

    def _failure(self, stream: bool) -> Decision | None:
        config = self._config
        if self._draw(config.error_rate):
            self._stats.errors_5xx += 1
            body = status_error_body(config.error_status, self.name, "")
            return self._error(config.error_status, body)
        if self._draw(config.garbage_rate):
            self._stats.garbage += 1
            self._stats.by_status[200] += 1
            return Decision(Action.GARBAGE, 200, self._headers(), stream=stream)
        if self._draw(config.inband_error_rate):
            self._stats.inband_errors += 1
            self._stats.by_status[200] += 1
            body = error_body(f"[{self.name}] upstream provider error", "server_error", 502)
            return Decision(Action.INBAND_ERROR, 200, self._headers(), body, stream=stream)
        if not stream and self._draw(config.drop_rate):
            self._stats.dropped += 1
            return Decision(Action.DROP)
        return None

    def _refusal(self, model: str, authorization: str | None) -> int | None:
        config = self._config
        if config.status_override is not None:
            return config.status_override
        if config.api_key is not None:
            token = (authorization or "").removeprefix("Bearer ").strip()
            if not hmac.compare_digest(token.encode(), config.api_key.encode()):
                return 401
        if config.reject_unknown_models and model not in config.models:
            return 404
        return None

    def _reply(self, endpoint: Endpoint, body: dict[str, Any], model: str, now: float) -> Reply:
        self._seq += 1
        prefix = "chatcmpl" if endpoint is Endpoint.CHAT else "cmpl"
        words, finish = self._reply_words(model, completion_limit(body))
        options = body.get("stream_options")
        include_usage = isinstance(options, dict) and options.get("include_usage") is True
        return Reply(
            endpoint=endpoint,
            id=f"{prefix}-{self.name}-{self._seq:06d}",
            created=int(now),
            model=model,
            words=words,
            prompt_tokens=count_prompt_tokens(endpoint, body),
            finish_reason=finish,
            include_usage=include_usage,
        )

    def _reply_words(self, model: str, limit: int | None) -> tuple[tuple[str, ...], str]:
        """`reply_words`, remembered per (model, limit) since the same ones recur."""
        key = (model, limit)
        words = self._words.get(key)
        if words is None:
            if len(self._words) >= _WORDS_CACHE_SIZE:
                self._words.clear()
            words = reply_words(self.name, model, self._config.reply_words, limit)
            self._words[key] = words
        return words

    def _error(
        self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> Decision:
        self._stats.by_status[status] += 1
        return Decision(Action.ERROR, status, self._headers() if headers is None else headers, body)

    def _headers(self) -> dict[str, str]:
        return rate_limit_headers(
            self._config, self._windows.state(self._config, self._clock.now())
        )

    def _draw(self, rate: float) -> bool:
        return rate > 0.0 and self._rng.random() < rate


def _invalid(endpoint: Endpoint, body: Any) -> str | None:
    """Why a request body is unacceptable, or `None`."""
    if not isinstance(body, dict):
        return "the request body must be a JSON object"
    if not isinstance(body.get("model"), str) or not body["model"]:
        return "you must provide a model parameter"
    if endpoint is Endpoint.CHAT:
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return "'messages' must be a non-empty array"
    elif "prompt" not in body:
        return "you must provide a prompt parameter"
    return None
