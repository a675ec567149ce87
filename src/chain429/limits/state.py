"""The mutable records the tracker keeps: per entry (provider, key slot, model) and per key."""

from __future__ import annotations

from dataclasses import dataclass, field

from chain429.limits.metric import MetricKind, Scope, Window
from chain429.limits.window import WindowState

WindowKey = tuple[MetricKind, Window]


@dataclass(slots=True)
class EntryState:
    """What one provider key slot has said about one model."""

    cooldown_until: float = 0.0
    reason: str = ""
    untimed_strikes: int = 0
    mid_stream_failures: int = 0
    mid_stream_escalations: int = 0
    disabled: str | None = None
    in_flight: int = 0
    windows: dict[WindowKey, WindowState] = field(default_factory=dict)


@dataclass(slots=True)
class KeyState:
    """What one provider key (or key slot) has said about every model at once."""

    credit_until: float = 0.0
    disabled: str | None = None
    cooldown_until: float = 0.0
    free_cooldown_until: float = 0.0
    reason: str = ""
    windows: dict[tuple[MetricKind, Window, Scope], WindowState] = field(default_factory=dict)


def is_free_model(model: str) -> bool:
    """OpenRouter's free variants, which share the `free-models-per-day` cap."""
    return model.endswith(":free")
