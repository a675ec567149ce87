"""The subscription through which a replica hears the fleet's probe answers and learned limits.

`scripts.ANSWER` and `scripts.LEARN` publish on `names.PROBE_CHANNEL` each time an entry's
answer or learned limit changes in the shared state, so requests waiting on every replica for
that answer wake as soon as it lands, with no polling. A message can be missed (the connection
drops, the subscription is being made again): `look_again` is called so the listener can look
again at whatever it waits for, each time the subscription is made, when it ends, and every
`retry_s` while it cannot be made. A node gone with the subscription need not be one the
listener's store talks to (of a Redis Cluster, the channel's node), and no answer can be heard
until it is back: the listener asks the shared state again meanwhile instead of waiting for a
message that cannot come (its store finds the outage, if any, on the way). A request waits no
longer than its `probeWaitMs` in any case.
"""

from __future__ import annotations

from collections.abc import Callable

from chain429.state_store.names import PROBE_CHANNEL
from chain429.state_store.redis_store import RETRY_S
from chain429.state_store.subscription import Subscription


class AnswerFeed:
    """Calls `heard` with every message on `names.PROBE_CHANNEL`, and `look_again` whenever one
    may have been missed; see the module docstring."""

    def __init__(
        self,
        url: str,
        heard: Callable[[bytes], None],
        look_again: Callable[[], None],
        *,
        retry_s: float = RETRY_S,
    ) -> None:
        self._look_again = look_again
        self.following = False
        """Whether the subscription is in place now (what is told meanwhile is heard)."""
        self._subscription = Subscription(
            url, PROBE_CHANNEL, heard, self._changed, what="probe-answers", retry_s=retry_s
        )
        self._subscription.start()

    async def close(self) -> None:
        await self._subscription.close()

    def _changed(self, following: bool) -> None:
        """Made or lost: either way something told may have been missed, so look again."""
        self.following = following
        self._look_again()
