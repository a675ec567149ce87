"""Where the shared state of a provider key slot lives in Redis, and how its parts are named.

A key slot's keys share one hash tag, `{<provider id>:<slot>}`, so that every script on them
runs on one Redis Cluster slot. A provider key is named by its slot only (its position, or 0
when a provider's keys share their limits): no key, and nothing derived from one, is written
to Redis. Provider ids and models are percent-encoded, so no brace, separator or space of
theirs can break a name.
"""

from __future__ import annotations

from typing import Final, NamedTuple
from urllib.parse import quote

from chain429.limits.metric import MetricKind, Scope, Window

PREFIX: Final = "c429"


class SlotKeys(NamedTuple):
    """The Redis keys of one provider key slot (see `scripts`)."""

    state: str
    leases: str
    held: str


def slot_keys(provider_id: str, slot: int) -> SlotKeys:
    tag = f"{{{quote(provider_id, safe='')}:{slot}}}"
    return SlotKeys(f"{PREFIX}:{tag}:state", f"{PREFIX}:{tag}:leases", f"{PREFIX}:{tag}:held")


def model_name(model: str) -> str:
    return quote(model, safe="")


def window_name(scope: Scope, kind: MetricKind, window: Window) -> str:
    return f"{scope.value}/{kind.value}/{window.value}"


def parse_window_name(name: str) -> tuple[Scope, MetricKind, Window]:
    scope, kind, window = name.split("/")
    return Scope(scope), MetricKind(kind), Window(window)
