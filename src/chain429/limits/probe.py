"""Admission before an entry's limits are known: a few probes go, the rest wait for an answer.

An entry (provider, key slot, model) is *unknown* while nothing says what it allows: no window
from its headers, from manual limits, from learning or from a restored snapshot, and no
key-wide window that applies to its model. An unknown entry that has not served yet (or whose
last answer was a 429), and any entry whose last answer was a failure, admits at most
`concurrency` requests at once: the probes. The tracker answers the others with a `probing`
skip, and the router waits for the probes' answer before asking again (`router.probe_wait`):
what the answer taught (headers, a cooldown, a penalty, a learned limit) then decides.

An unknown entry that serves without saying anything of its limits (no headers) starts slowly:
it admits `SLOW_START` times as many requests at once as it has served in a row (since its last
429 or failure), so a burst at a provider that states no limit costs a few 429s while its limit
is learned (`limits.learned`), not the whole burst, and an unlimited one opens up within a few
answers. A request that has waited its whole `probeWaitMs` there goes all the same: the entry
answers, and walking on would push the request down the chain, or out of its end, for nothing
but caution (a probe's missing answer, or a failure, still sends it on).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from chain429.outcome import RULES, Effect, Outcome

#: In flight per request served, for an unknown entry that serves without stating limits.
SLOW_START = 2
UNKNOWN_DETAIL = "limits unknown: waiting for the first answer"
SLOW_START_DETAIL = "limits unknown: admitting more as answers come"
FAILED_DETAIL = "last answer was a failure: waiting for the next one"


class Answer(StrEnum):
    """The last answer an entry gave, as far as probing cares."""

    NONE = "none"
    SERVED = "served"
    REFUSED = "refused"
    """A 429."""
    FAILED = "failed"
    """A failure that costs a penalty: 5xx, timeout, connection error, broken answer."""


def served_run(outcome: Outcome, run: int) -> int:
    """Answers served in a row once an attempt ended in `outcome`: one more after a served
    one, none after a 429 or a failure; outcomes that say nothing of the entry change nothing."""
    if outcome is Outcome.SERVED:
        return run + 1
    effect = RULES[outcome].effect
    return 0 if effect in (Effect.COOLDOWN, Effect.PENALTY) else run


def answer_after(outcome: Outcome, last: Answer) -> Answer:
    """The entry's last answer once an attempt ended in `outcome`. Outcomes that say nothing of
    the entry's health (a rejected request, a key problem, the client leaving) keep `last`."""
    effect = RULES[outcome].effect
    if outcome is Outcome.SERVED:
        return Answer.SERVED
    if effect is Effect.COOLDOWN:
        return Answer.REFUSED
    if effect is Effect.PENALTY:
        return Answer.FAILED
    return last


@dataclass(frozen=True, slots=True)
class ProbeGate:
    """How many probes an entry that needs them admits at once (`settings.probeConcurrency`)."""

    concurrency: int = 1

    def holds(
        self, last: Answer, known: bool, in_flight: int, served: int, waited: bool = False
    ) -> str | None:
        """Why one more request must wait for an answer, or None when it may go. `served`
        counts the answers an entry served in a row; `waited`: the request waited its whole
        `probeWaitMs`."""
        if last is Answer.FAILED:
            return FAILED_DETAIL if in_flight >= self.concurrency else None
        if known:
            return None
        if last is not Answer.SERVED:
            return UNKNOWN_DETAIL if in_flight >= self.concurrency else None
        if waited or in_flight < max(self.concurrency, SLOW_START * served):
            return None
        return SLOW_START_DETAIL
