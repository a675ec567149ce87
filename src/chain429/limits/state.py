"""The mutable records the tracker keeps: reservations, and state per (provider, key slot,
model) and per key."""

from __future__ import annotations

from dataclasses import dataclass, field

from chain429.limits.learned import Learning
from chain429.limits.metric import MetricKind, Scope, Window
from chain429.limits.probe import Answer
from chain429.limits.window import WindowState

WindowKey = tuple[MetricKind, Window]
KeyModel = tuple[str, int, str]
"""(provider id, key slot, model): what a `KeyModelState` is kept under."""


@dataclass(slots=True, eq=False)
class Reservation:
    """A granted admission: which key to use and what it holds. Released exactly once.

    `windows` are the windows it holds a share of; `settled` those whose provider already
    counted this request (its headers arrived), so the hold was dropped early; `observed` those
    a header updated, which therefore need no local spending on release. `admitted_at` is
    the clock's time at admission; `answered` is set when a stream committed (its answer is
    counted then, not again when it ends).

    `entry`, `key` and `shared` are the states it was granted on (its model on its key slot,
    its key, its key slot), set by admission: what it teaches goes to them wherever a config
    change moved them, and nowhere once a change dropped them (`retired`).
    """

    provider_id: str
    key_index: int
    key_label: str
    api_key: str
    model: str
    slot: int = 0
    tokens: int = 0
    windows: tuple[WindowState, ...] = ()
    observed: frozenset[int] = frozenset()
    settled: frozenset[int] = frozenset()
    released: bool = False
    entry: KeyModelState | None = None
    key: KeyState | None = None
    shared: KeyState | None = None
    admitted_at: float = 0.0
    answered: bool = False


@dataclass(slots=True)
class KeyModelState:
    """What one provider key slot has said about one model: a chain entry's state as seen
    through one of its provider's keys (a chain entry is a provider and model only)."""

    cooldown_until: float = 0.0
    reason: str = ""
    penalised: bool = False
    """The cooldown up to `cooldown_until` is a failure penalty, not a rate limit or quota."""
    untimed_strikes: int = 0
    mid_stream_failures: int = 0
    mid_stream_escalations: int = 0
    clean_serves: int = 0
    disabled: str | None = None
    in_flight: int = 0
    windows: dict[WindowKey, WindowState] = field(default_factory=dict)
    live: set[Reservation] = field(default_factory=set)
    retired: bool = False
    """A config change dropped it: the tracker no longer holds it."""
    answer: Answer = Answer.NONE
    """The last answer, which decides whether only probes are admitted (see `limits.probe`)."""
    served_run: int = 0
    """Answers served in a row (since the last 429 or failure): how far an entry whose limits
    are unknown has opened up (see `limits.probe`)."""
    learning: Learning = field(default_factory=Learning)
    """What its answers taught of a limit no header states (see `limits.learned`)."""
    known_elsewhere: bool = False
    """Replicas sharing limit state know its limits (from another replica's answers, see
    `state_store.shared_tracker`): admission there is exact, so it takes no probes here."""


@dataclass(slots=True)
class KeyState:
    """What one provider key (or key slot) has said about every model at once."""

    credit_until: float = 0.0
    disabled: str | None = None
    cooldown_until: float = 0.0
    free_cooldown_until: float = 0.0
    reason: str = ""
    windows: dict[tuple[MetricKind, Window, Scope], WindowState] = field(default_factory=dict)
    live: set[Reservation] = field(default_factory=set)
    retired: bool = False
    """A config change dropped it: the tracker no longer holds it."""


def is_free_model(model: str) -> bool:
    """OpenRouter's free variants, which share the `free-models-per-day` cap."""
    return model.endswith(":free")


def hold_for_others(
    window: WindowState, scope: Scope, live: set[Reservation], observer: Reservation | None
) -> None:
    """A new window counts the requests already in flight on it (all but the one reporting)."""
    for other in live:
        if other is observer or (scope is Scope.FREE_MODELS and not is_free_model(other.model)):
            continue
        window.in_flight += hold_amount(window, other.tokens)
        other.windows += (window,)


def hold_amount(window: WindowState, tokens: int) -> int:
    """What one request of `tokens` holds of `window` while in flight."""
    return 1 if window.kind is MetricKind.REQUESTS else tokens
