"""The state of models no chain lists, kept only while used and only so much of it.

A client reaches any model of a provider as `provider/<model>`, with any name it likes, so the
tracker keeps such entries in a bounded table: at most `MAX_TRANSIENT_ENTRIES`, least recently
used first out, never one with a request in flight. What an evicted entry knew (a cooldown, a
window learned from headers) is relearned from the provider's next answer: at worst one call
that the entry would have skipped. Entries of the config are never evicted, and admitting them
costs one set lookup more.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, MutableMapping

from chain429.config.schema import Config
from chain429.limits.state import KeyModel, KeyModelState

#: At most this many entries of models outside the config are kept (see bench/README.md,
#: "Figures measured once", for what each costs).
MAX_TRANSIENT_ENTRIES = 1024


def listed_entries(config: Config) -> frozenset[tuple[str, str]]:
    """Every (provider, model) a chain of `config` lists."""
    return frozenset((e.provider, e.model) for chain in config.chains for e in chain.entries)


class TransientEntries:
    """The recency order of the entries outside `listed`, and their eviction from the
    tracker's table."""

    def __init__(
        self, listed: frozenset[tuple[str, str]], limit: int = MAX_TRANSIENT_ENTRIES
    ) -> None:
        self._listed = listed
        self._limit = limit
        self._order: OrderedDict[KeyModel, None] = OrderedDict()

    def __len__(self) -> int:
        return len(self._order)

    def created(self, key: KeyModel, states: MutableMapping[KeyModel, KeyModelState]) -> None:
        """`key` was just added to `states`: track it when its model is not listed, and
        evict the least recently used idle entries past the limit (never `key` itself)."""
        provider_id, _, model = key
        if (provider_id, model) in self._listed:
            return
        self._order[key] = None
        self._trim(states)

    def relist(
        self,
        listed: frozenset[tuple[str, str]],
        moved: Mapping[KeyModel, KeyModel],
        states: MutableMapping[KeyModel, KeyModelState],
    ) -> None:
        """Follow a config change: `listed` is what the chains list now, `moved` where each
        state the change kept went (`carryover.Carried.moved`), `states` the new table. The
        entries keep their recency; those a chain lists now leave the order."""
        order: OrderedDict[KeyModel, None] = OrderedDict()
        for key in self._order:
            new = moved.get(key)
            if new is not None and (new[0], new[2]) not in listed:
                order[new] = None
        self._listed, self._order = listed, order
        self._trim(states)

    def _trim(self, states: MutableMapping[KeyModel, KeyModelState]) -> None:
        """Evict the least recently used idle entries past the limit (never the newest)."""
        order = self._order
        for _ in range(len(order) - 1):
            if len(order) <= self._limit:
                return
            oldest = next(iter(order))
            state = states.get(oldest)
            if state is not None and state.in_flight > 0:
                order.move_to_end(oldest)
                continue
            del order[oldest]
            states.pop(oldest, None)

    def used(self, key: KeyModel) -> None:
        """`key` was admitted: it becomes the most recently used (listed entries: no-op)."""
        if key in self._order:
            self._order.move_to_end(key)
