"""Counters of what a simulated provider received and how it answered."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class SimStats:
    """Mutable counters; `as_dict` is what `GET /_stats` returns (plus the window state)."""

    requests: int = 0
    streamed: int = 0
    non_streamed: int = 0
    models_requests: int = 0
    key_requests: int = 0
    rate_limited: int = 0
    errors_5xx: int = 0
    dropped: int = 0
    hung: int = 0
    garbage: int = 0
    inband_errors: int = 0
    client_disconnects: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    by_status: Counter[int] = field(default_factory=Counter)
    by_endpoint: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "streamed": self.streamed,
            "non_streamed": self.non_streamed,
            "models_requests": self.models_requests,
            "key_requests": self.key_requests,
            "rate_limited": self.rate_limited,
            "errors_5xx": self.errors_5xx,
            "dropped": self.dropped,
            "hung": self.hung,
            "garbage": self.garbage,
            "inband_errors": self.inband_errors,
            "client_disconnects": self.client_disconnects,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "by_status": {str(code): n for code, n in sorted(self.by_status.items())},
            "by_endpoint": dict(self.by_endpoint),
        }
