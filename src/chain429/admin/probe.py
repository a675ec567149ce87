"""Probe every entry of a chain, one by one: the same small prompt to each, not streamed.

Each probe asks admission first: an entry that cannot serve now (cooling down, exhausted, set
aside after a 401) is reported as skipped, with when it frees up, and costs no call. With
`force` it is called anyway, on its provider's first key (`LimitTracker.force`). Either way
the probe is one attempt as the waterfall makes it (`router.attempt.Attempter`): its answer
teaches the tracker what any answer would (limit headers, a cooldown after a 429), its
reservation is released, and it is recorded as a request for that one entry (`test_…` id).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, Final

from chain429.admin.capture import message_text
from chain429.admin.trial import chat_request, new_test_request_id
from chain429.config.schema import Chain, ChainEntry
from chain429.limits.metric import Scope
from chain429.limits.state import Reservation
from chain429.limits.tracker import Demand, Skip, SkipReason
from chain429.outcome import Outcome
from chain429.router.attempt import AttemptResult
from chain429.router.plan import ProviderPlan
from chain429.router.request import ClientRequest
from chain429.router.verdict import decide
from chain429.router.walk import Walk, usage_tokens
from chain429.state import AppState

PROBE_MAX_TOKENS: Final = 50
RESPONSE_CHARS: Final = 200


class ProbeStatus(StrEnum):
    OK = "ok"
    ERROR = "error"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class ProbeTokens:
    prompt: int | None
    completion: int | None
    total: int | None


@dataclass(frozen=True, slots=True)
class EntryProbe:
    """How one entry answered its probe. `response` is the answer's text cut at
    `RESPONSE_CHARS`; `error` says why it failed, `reason` why it was skipped, both safe to show
    (no key, no URL); `available_at` is when a skipped entry frees up (None: not by itself);
    `raw` is the upstream's answer (keys removed) or the error it gave."""

    position: int
    provider: str
    model: str
    status: ProbeStatus
    key_label: str | None = None
    latency_ms: float | None = None
    http_status: int | None = None
    outcome: Outcome | None = None
    tokens: ProbeTokens | None = None
    response: str | None = None
    error: str | None = None
    skip_reason: SkipReason | None = None
    reason: str | None = None
    available_at: float | None = None
    forced: bool = False
    raw: Any = None


class ChainProber:
    """Probes the entries of a chain with the running proxy's tracker, upstream client and
    usage sink, under the configuration it runs now."""

    def __init__(self, state: AppState) -> None:
        self._state = state
        routing = state.waterfall.routing  # the plans, redactor and attempter requests use
        self._plans = routing.plans
        self._redactor = routing.redactor
        self._attempter = routing.attempter

    async def probe(
        self,
        chain: Chain,
        prompt: str,
        *,
        max_tokens: int = PROBE_MAX_TOKENS,
        force: bool = False,
    ) -> list[EntryProbe]:
        messages = [{"role": "user", "content": prompt}]
        probes = []
        for position, entry in enumerate(chain.entries):
            request = chat_request(
                new_test_request_id(),
                f"{entry.provider}/{entry.model}",
                messages,
                max_tokens=max_tokens,
                stream=False,
                now=self._state.clock.now(),
            )
            probes.append(await self._probe(chain.name, position, entry, request, force))
        return probes

    async def _probe(
        self, chain: str, position: int, entry: ChainEntry, request: ClientRequest, force: bool
    ) -> EntryProbe:
        tracker = self._state.tracker
        plan = self._plans[entry.provider]
        demand = plan.demand(request)
        admitted = tracker.admit(plan.provider, entry.model, demand)
        if isinstance(admitted, Skip):
            if not force:
                return _skipped(position, entry, admitted)
            reservation, forced = tracker.force(plan.provider, entry.model, demand), True
        else:
            reservation, forced = admitted, False
        walk = Walk(request, chain, self._redactor, self._state.clock.now)
        result = await self._attempt(plan, reservation, request, walk)
        self._learn(position, entry, plan, demand, reservation, result, walk)
        latency = walk.attempts[-1].latency_ms
        return self._report(position, entry, reservation, result, latency, forced)

    async def _attempt(
        self, plan: ProviderPlan, reservation: Reservation, request: ClientRequest, walk: Walk
    ) -> AttemptResult:
        """The call, as the waterfall makes it: what the answer reported is observed, and the
        reservation released however the call ends."""
        tracker = self._state.tracker
        used_tokens: int | None = None
        walk.begin_attempt()
        try:
            result = await self._attempter.call(plan, reservation, request)
            if result.report is not None:
                tracker.observe(reservation, result.report)
            used_tokens = usage_tokens(result.usage, "total_tokens")
        finally:
            tracker.release(reservation, used_tokens)
        return result

    def _learn(
        self,
        position: int,
        entry: ChainEntry,
        plan: ProviderPlan,
        demand: Demand,
        reservation: Reservation,
        result: AttemptResult,
        walk: Walk,
    ) -> None:
        """The outcome's effect on the entry, and the probe's usage record."""
        state = self._state
        scope = result.report.retry_scope if result.report is not None else Scope.MODEL
        state.tracker.record(reservation, result.outcome, result.retry_at, result.reason, scope)
        if result.outcome is Outcome.SERVED:
            walk.attempted(position, entry, reservation, result, result.reason)
            state.sink.submit(walk.served_record(entry.provider, entry.model, reservation, result))
            return
        available = state.tracker.available_at(plan.provider, entry.model, demand)
        walk.attempted(position, entry, reservation, result, result.reason, available)
        label = f"{entry.provider}/{entry.model}"
        verdict = decide(label, walk.notes, state.clock.now(), direct=True)
        state.sink.submit(walk.record(verdict.status, verdict.error_class))

    def _report(
        self,
        position: int,
        entry: ChainEntry,
        reservation: Reservation,
        result: AttemptResult,
        latency_ms: float,
        forced: bool,
    ) -> EntryProbe:
        base = EntryProbe(
            position,
            entry.provider,
            entry.model,
            ProbeStatus.ERROR,
            key_label=reservation.key_label,
            latency_ms=latency_ms,
            http_status=result.status,
            outcome=result.outcome,
            forced=forced,
        )
        if result.outcome is not Outcome.SERVED or result.document is None:
            info = result.error
            raw = None if info is None else {"message": info.message, "code": info.code}
            return replace(base, error=result.reason or result.outcome.value, raw=raw)
        usage = result.usage
        tokens = ProbeTokens(
            usage_tokens(usage, "prompt_tokens"),
            usage_tokens(usage, "completion_tokens"),
            usage_tokens(usage, "total_tokens"),
        )
        return replace(
            base,
            status=ProbeStatus.OK,
            tokens=tokens if usage is not None else None,
            response=(message_text(result.document) or "")[:RESPONSE_CHARS],
            raw=self._redactor.redact_value(result.document),
        )


def _skipped(position: int, entry: ChainEntry, skip: Skip) -> EntryProbe:
    return EntryProbe(
        position=position,
        provider=entry.provider,
        model=entry.model,
        status=ProbeStatus.SKIPPED,
        outcome=Outcome.SKIPPED,
        skip_reason=skip.reason,
        reason=skip.detail or skip.reason.value,
        available_at=skip.until,
    )
