"""Headers any server may send, whatever its dialect.

`Retry-After` (RFC 9110: delay seconds or an HTTP date), the common `retry-after-ms`, and the
IETF RateLimit draft in its shapes so far: split fields (`ratelimit-limit`, `ratelimit-remaining`,
`ratelimit-reset` delta seconds, `ratelimit-policy: 100;w=60`), the combined draft-07 field
(`ratelimit: limit=100, remaining=50, reset=30`) and the draft-08 items
(`ratelimit: "default";r=50;t=30` with `ratelimit-policy: "default";q=100;w=60`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from chain429.limits.metric import Metric, MetricKind, Scope, Source, Window
from chain429.providers.durations import (
    MAX_DURATION_SECONDS,
    parse_count,
    parse_milliseconds,
    parse_number,
)
from chain429.providers.header_view import HeaderView
from chain429.providers.instants import parse_http_date, parse_reset_instant

_PAIR = re.compile(r"""^\s*([a-z][a-z0-9_-]*)\s*=\s*"?([^";,]*)"?\s*$""")
IETF_FIELDS = ("ratelimit-limit", "ratelimit-remaining", "ratelimit-reset", "ratelimit")


@dataclass(frozen=True, slots=True)
class _Policy:
    quota: int | None
    window: Window


def parse_retry_after(headers: Mapping[str, str], now: float) -> float | None:
    """When a retry is allowed (epoch seconds) from `retry-after-ms` or `retry-after`."""
    view = HeaderView.of(headers)
    delay = view.read("retry-after-ms", parse_milliseconds)
    if delay is not None:
        return now + delay
    return view.read("retry-after", lambda value: _retry_after_instant(value, now))


def _retry_after_instant(value: str, now: float) -> float | None:
    seconds = parse_number(value)
    if seconds is None:
        return parse_http_date(value)
    return now + seconds if seconds <= MAX_DURATION_SECONDS else None


def _params(text: str) -> dict[str, str] | None:
    """`key=value` pairs of a structured field, split on `,` and `;`; None when there are none."""
    pairs: dict[str, str] = {}
    for piece in re.split(r"[;,]", text.lower()):
        match = _PAIR.match(piece)
        if match:
            pairs.setdefault(match.group(1), match.group(2).strip())
    return pairs or None


def _first_item(text: str) -> str:
    return text.split(",", 1)[0]


def _leading_count(text: str) -> int | None:
    """The count that opens a field such as `100, 100;w=60`."""
    return parse_count(_first_item(text).split(";", 1)[0])


def _policy(text: str) -> _Policy | None:
    item = _first_item(text)
    params = _params(item) or {}
    window_text = params.get("w")
    seconds = parse_number(window_text) if window_text is not None else None
    quota_text = params.get("q")
    quota = parse_count(quota_text) if quota_text is not None else _leading_count(item)
    if seconds is None and quota is None:
        return None
    window = Window.from_seconds(seconds) if seconds is not None else Window.UNKNOWN
    return _Policy(quota, window)


def parse_ietf(headers: Mapping[str, str], now: float) -> list[Metric]:
    """Metrics from the IETF RateLimit draft fields (requests, window from the policy)."""
    view = HeaderView.of(headers)
    policy = view.read("ratelimit-policy", _policy) or _Policy(None, Window.UNKNOWN)
    metrics: list[Metric] = []
    limit = view.read("ratelimit-limit", _leading_count)
    remaining = view.read("ratelimit-remaining", _leading_count)
    reset_at = view.read("ratelimit-reset", lambda value: parse_reset_instant(value, now))
    if limit is not None or remaining is not None:
        metrics.append(
            _metric(
                policy, limit, remaining, reset_at, view.raw(*IETF_FIELDS[:3], "ratelimit-policy")
            )
        )
    combined = view.read("ratelimit", _params)
    if combined is not None:
        metric = _combined_metric(combined, policy, now, view.raw("ratelimit", "ratelimit-policy"))
        if metric is not None:
            metrics.append(metric)
    return metrics


def _combined_metric(
    params: dict[str, str], policy: _Policy, now: float, raw: tuple[tuple[str, str], ...]
) -> Metric | None:
    limit_text = params.get("limit")
    remaining_text = params.get("remaining", params.get("r"))
    reset_text = params.get("reset", params.get("t"))
    limit = parse_count(limit_text) if limit_text is not None else None
    remaining = parse_count(remaining_text) if remaining_text is not None else None
    reset_at = parse_reset_instant(reset_text, now) if reset_text is not None else None
    if limit is None and remaining is None:
        return None
    return _metric(policy, limit, remaining, reset_at, raw)


def _metric(
    policy: _Policy,
    limit: int | None,
    remaining: int | None,
    reset_at: float | None,
    raw: tuple[tuple[str, str], ...],
) -> Metric:
    return Metric(
        kind=MetricKind.REQUESTS,
        window=policy.window,
        limit=limit if limit is not None else policy.quota,
        remaining=remaining,
        reset_at=reset_at,
        source=Source.HEADER,
        scope=Scope.MODEL,
        raw=raw,
    )
