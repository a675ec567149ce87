"""Pure: window state -> the rate-limit headers and 429 bodies each provider dialect speaks.

Header facts are in /work/shared/PROVIDERS.md. Every figure is the simulator's real state:
`remaining` is what is left after the request being answered, resets are time to the end of the
window. Where a dialect names a window the simulator does not have, the header is left out.
"""

from __future__ import annotations

import math
from typing import Any

from chain429.sim.config import Dialect, SimProviderConfig
from chain429.sim.windows import DAY_SECONDS, Metric, MetricKind, Rejection, WindowState


def format_duration(seconds: float) -> str:
    """Go-style duration as Groq and OpenAI send it: `2m59.56s`, `7.66s`, `1h2m3s`, `250ms`."""
    if seconds <= 0:
        return "0s"
    if seconds < 1 and round(seconds * 1000) < 1000:
        return f"{max(1, round(seconds * 1000))}ms"
    centis = round(seconds * 100)
    hours, rest = divmod(centis, 360_000)
    minutes, rest = divmod(rest, 6_000)
    whole, frac = divmod(rest, 100)
    secs = f"{whole}.{frac:02d}".rstrip("0").rstrip(".")
    out = f"{hours}h" if hours else ""
    if hours or minutes:
        out += f"{minutes}m"
    return f"{out}{secs}s"


def rate_limit_headers(
    config: SimProviderConfig, state: WindowState, rejection: Rejection | None = None
) -> dict[str, str]:
    """The dialect's rate-limit headers for `state` (none for dialect `none`)."""
    dialect = config.dialect
    if dialect is Dialect.GROQ:
        return _groq_style(state.day or state.requests, state.tokens, state.now)
    if dialect is Dialect.OPENAI:
        return _groq_style(state.requests or state.day, state.tokens, state.now)
    if dialect is Dialect.CEREBRAS:
        return _cerebras(state)
    if dialect is Dialect.OPENROUTER:
        metric = rejection.metric if rejection else _openrouter_metric(state)
        return {} if metric is None else _openrouter(metric)
    return {}


def rate_limited_reply(
    config: SimProviderConfig, state: WindowState, rejection: Rejection, model: str
) -> tuple[dict[str, str], dict[str, Any]]:
    """Headers and JSON body of the 429 for `rejection`."""
    headers = rate_limit_headers(config, state, rejection)
    wait = max(1, math.ceil(rejection.retry_after))
    if not config.retry_after:
        return headers, _bare_body(rejection)
    if config.dialect is Dialect.NONE and config.gemini_body:
        return headers, _gemini_body(rejection, wait)
    headers["retry-after"] = str(wait)
    if config.dialect is Dialect.OPENROUTER:
        return headers, _openrouter_body(rejection, headers)
    return headers, _openai_body(rejection, model)


def _groq_style(requests: Metric | None, tokens: Metric | None, now: float) -> dict[str, str]:
    headers: dict[str, str] = {}
    if requests is not None:
        headers["x-ratelimit-limit-requests"] = str(requests.limit)
        headers["x-ratelimit-remaining-requests"] = str(requests.remaining)
        headers["x-ratelimit-reset-requests"] = format_duration(requests.reset_in(now))
    if tokens is not None:
        headers["x-ratelimit-limit-tokens"] = str(tokens.limit)
        headers["x-ratelimit-remaining-tokens"] = str(tokens.remaining)
        headers["x-ratelimit-reset-tokens"] = format_duration(tokens.reset_in(now))
    return headers


def _cerebras(state: WindowState) -> dict[str, str]:
    headers: dict[str, str] = {}
    if state.day is not None:
        headers["x-ratelimit-limit-requests-day"] = str(state.day.limit)
        headers["x-ratelimit-remaining-requests-day"] = str(state.day.remaining)
        headers["x-ratelimit-reset-requests-day"] = f"{state.day.reset_in(state.now):.2f}"
    if state.tokens is not None:
        headers["x-ratelimit-limit-tokens-minute"] = str(state.tokens.limit)
        headers["x-ratelimit-remaining-tokens-minute"] = str(state.tokens.remaining)
        headers["x-ratelimit-reset-tokens-minute"] = f"{state.tokens.reset_in(state.now):.2f}"
    return headers


def _openrouter_metric(state: WindowState) -> Metric | None:
    """The request limit closest to running out (the per-window one on a tie)."""
    candidates = [m for m in (state.requests, state.day) if m is not None]
    return min(candidates, key=lambda m: m.remaining) if candidates else None


def _openrouter(metric: Metric) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(metric.limit),
        "X-RateLimit-Remaining": str(metric.remaining),
        "X-RateLimit-Reset": str(round(metric.reset_at * 1000)),
    }


def _describe(rejection: Rejection) -> str:
    unit = "tokens" if rejection.kind is MetricKind.TOKENS else "requests"
    seconds = rejection.metric.window_seconds
    if seconds == 60:
        return f"{unit} per minute ({unit[0].upper()}PM)"
    if seconds == DAY_SECONDS:
        return f"{unit} per day ({unit[0].upper()}PD)"
    return f"{unit} per {seconds:g} seconds"


def _openai_body(rejection: Rejection, model: str) -> dict[str, Any]:
    metric = rejection.metric
    message = (
        f"Rate limit reached for model `{model}` on {_describe(rejection)}: "
        f"Limit {metric.limit}, Used {metric.limit - metric.remaining}, "
        f"Requested {rejection.requested}. "
        f"Please try again in {format_duration(rejection.retry_after)}."
    )
    kind = "tokens" if rejection.kind is MetricKind.TOKENS else "requests"
    return {
        "error": {"message": message, "type": kind, "param": None, "code": "rate_limit_exceeded"}
    }


def _bare_body(rejection: Rejection) -> dict[str, Any]:
    """A refusal that names neither the limit nor a time to wait."""
    kind = "tokens" if rejection.kind is MetricKind.TOKENS else "requests"
    message = "Rate limit exceeded. Slow down."
    return {
        "error": {"message": message, "type": kind, "param": None, "code": "rate_limit_exceeded"}
    }


def _openrouter_body(rejection: Rejection, headers: dict[str, str]) -> dict[str, Any]:
    message = {
        MetricKind.DAY: "Rate limit exceeded: free-models-per-day. "
        "Add 10 credits to unlock 1000 free model requests per day",
        MetricKind.REQUESTS: "Rate limit exceeded: free-models-per-min.",
        MetricKind.TOKENS: "Rate limit exceeded: free-tokens-per-min.",
    }[rejection.kind]
    return {
        "error": {
            "code": 429,
            "message": message,
            "metadata": {"headers": dict(headers)},
        }
    }


def _gemini_body(rejection: Rejection, wait: int) -> dict[str, Any]:
    period = "PerDay" if rejection.kind is MetricKind.DAY else "PerMinute"
    unit = "Tokens" if rejection.kind is MetricKind.TOKENS else "Requests"
    quota_id = f"Generate{unit}{period}PerProjectPerModel-FreeTier"
    return {
        "error": {
            "code": 429,
            "message": "You exceeded your current quota, please check your plan and billing "
            f"details. Please retry in {wait}s.",
            "status": "RESOURCE_EXHAUSTED",
            "details": [
                {
                    "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                    "violations": [
                        {"quotaId": quota_id, "quotaValue": str(rejection.metric.limit)}
                    ],
                },
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{wait}s"},
            ],
        }
    }
