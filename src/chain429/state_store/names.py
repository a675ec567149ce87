"""Where the shared state of a provider key slot lives in Redis, and how its parts are named.

A provider key's keys share one hash tag, `{<provider id>:<key fingerprint>}`, so that every
script on them runs on one Redis Cluster slot. The fingerprint is the first 64 bits of a
SHA-256 of the provider id and the key: the same key gives the same name on every replica,
wherever it sits among its provider's keys, and no key can be read back from it (or from
anything else of the limit state; a configuration change, shared by `config_sharing`, is
stored whole). A provider whose keys share their limits has one state for
all of them (`all`). Provider ids and models are percent-encoded, so no brace, separator or
space of theirs can break a name.
"""

from __future__ import annotations

import functools
import hashlib
from typing import Final, NamedTuple
from urllib.parse import quote

from chain429.limits.metric import MetricKind, Scope, Window

PREFIX: Final = "c429"
#: The channel on which freed capacity is told to every replica (see `scripts`, `wakes`): one
#: plain name, which a Redis Cluster broadcasts to all its nodes.
WAKE_CHANNEL: Final = f"{PREFIX}:wake"
#: Where probe answers and learned limits are told (`scripts.ANSWER`, `scripts.LEARN`): classic
#: pub/sub, which reaches the subscribers of every node of a Redis Cluster.
PROBE_CHANNEL: Final = f"{PREFIX}:probes"


class SlotKeys(NamedTuple):
    """The Redis keys of one provider key slot (see `scripts`)."""

    state: str
    leases: str
    held: str


#: The fingerprint of a provider whose keys share their limits: one state for all of them.
ALL_KEYS: Final = "all"


def key_fingerprint(provider_id: str, api_key: str) -> str:
    return hashlib.sha256(f"{provider_id}\0{api_key}".encode()).hexdigest()[:16]


def slot_keys(provider_id: str, fingerprint: str) -> SlotKeys:
    tag = f"{{{quote(provider_id, safe='')}:{fingerprint}}}"
    return SlotKeys(f"{PREFIX}:{tag}:state", f"{PREFIX}:{tag}:leases", f"{PREFIX}:{tag}:held")


@functools.lru_cache(maxsize=1024)  # the config's models: quoting each anew cost ~2 µs a call
def model_name(model: str) -> str:
    return quote(model, safe="")


def window_name(scope: Scope, kind: MetricKind, window: Window) -> str:
    return f"{scope.value}/{kind.value}/{window.value}"


def parse_window_name(name: str) -> tuple[Scope, MetricKind, Window]:
    scope, kind, window = name.split("/")
    return Scope(scope), MetricKind(kind), Window(window)


def concurrency_keys(provider_id: str) -> SlotKeys:
    """The Redis keys of the requests in flight on `provider_id` across all its keys, for its
    concurrency limits (see `scripts.TAKE_PLACE`): a hash tag of the provider's own, since a
    provider-wide count spans the slots of its keys. As a `SlotKeys`: per model how many
    (`state`), lease id -> expiry (`leases`), lease id -> model (`held`)."""
    tag = f"{{{quote(provider_id, safe='')}:conc}}"
    return SlotKeys(f"{PREFIX}:{tag}:count", f"{PREFIX}:{tag}:leases", f"{PREFIX}:{tag}:held")
