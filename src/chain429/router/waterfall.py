"""The waterfall, read top to bottom as the README tells it.

`serve` resolves the chain and walks it: one pass down its entries (`_pass`), or in queue mode
turns in line, each followed by one ordinary pass (`_queued`). At each entry: admission (an
entry the tracker knows cannot serve is skipped without a call), the call (`_attempt`: send,
answer the client if it serves, teach the tracker, note the attempt), then the outcome's rule
in `outcome.RULES`: another key of the same provider, the next entry, or the end of the walk.
When no entry served, the verdict (`verdict.decide`) is the answer.

A request reads the running configuration (`Routing`) once, as it starts, and walks on that
snapshot to its end; `reconfigure` swaps in another for the requests that come after.

Every request ends in exactly one answer on the client channel and exactly one usage record,
whatever happened, including the client going away, a shutdown cutting it short, and a bug of
our own (any exception from the tracker, an adapter or the upstream client): that is a 500
`internal_error`, or for a stream already under way an `error` event, logged with its traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from typing import NamedTuple

import orjson
import structlog

from chain429.clock import Clock
from chain429.config.schema import Chain, ChainEntry, Config
from chain429.limits.cooldown import CappedWait
from chain429.limits.metric import Scope
from chain429.limits.state import Reservation
from chain429.limits.tracker import Demand, LimitTracker, Skip
from chain429.openai_errors import INTERNAL_ERROR_MESSAGE, ErrorType, error_body, error_event
from chain429.outcome import RULES, Outcome
from chain429.router.attempt import AttemptResult, Commit
from chain429.router.fleet_admission import next_key
from chain429.router.inflight import InFlight
from chain429.router.plan import ProviderPlan
from chain429.router.probe_wait import ProbeWaits, is_probing
from chain429.router.queue import Line, Queues, Turn
from chain429.router.relay import StreamRelay
from chain429.router.request import ClientChannel, ClientRequest, ClientStalled
from chain429.router.routing import Routing, build_routing
from chain429.router.upstream import UpstreamClient
from chain429.router.verdict import EntryNote, Verdict, decide
from chain429.router.walk import Walk, usage_tokens
from chain429.usage.records import UsageSink

CLIENT_CLOSED_STATUS = 499
#: A request cut short by a shutdown, whether the client saw a 503 or an error event.
SHUTDOWN_STATUS = 503
_SHUTDOWN_MESSAGE = "The proxy is shutting down; retry the request."
_SHUTDOWN_BODY = error_body(_SHUTDOWN_MESSAGE, ErrorType.SERVER, "shutdown")
_SHUTDOWN_EVENT = error_event(_SHUTDOWN_MESSAGE, "shutdown", ErrorType.SERVER)
_JSON = "application/json"
_JSON_HEADERS = {"Content-Type": _JSON}
_SSE_HEADERS = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
_INTERNAL_ERROR = "internal_error"

log = structlog.get_logger("chain429.router")


def _log_capped(capped: CappedWait) -> None:
    log.warning(
        "provider wait cut to maxCooldownMs",
        provider=capped.provider_id,
        model=capped.model,
        key=capped.key_label,
        asked_s=round(capped.asked_s, 3),
        capped_s=capped.capped_s,
        told=capped.told,
    )


class Step(NamedTuple):
    """One admitted entry about to be tried, and the configuration its request walks on."""

    position: int
    entry: ChainEntry
    plan: ProviderPlan
    reservation: Reservation
    demand: Demand
    routing: Routing


class Waterfall:
    """Serves client requests by walking the chain their `model` names."""

    def __init__(
        self,
        config: Config,
        tracker: LimitTracker,
        upstream: UpstreamClient,
        sink: UsageSink,
        clock: Clock,
    ) -> None:
        self._routing = build_routing(config, upstream, clock)
        self._tracker = tracker
        tracker.on_capped(_log_capped)
        self._sink = sink
        self._clock = clock
        self.in_flight = InFlight()
        self._probes = ProbeWaits(tracker, clock)
        self._queues: Queues | None = None
        self._listening = False
        self._follow_queue_mode(config)

    @property
    def routing(self) -> Routing:
        """The running configuration, as new requests will walk it."""
        return self._routing

    @property
    def queues(self) -> Queues | None:
        return self._queues

    def reconfigure(self, routing: Routing) -> None:
        """Serve new requests on `routing`; requests in flight finish on theirs. The queues
        follow the chains (and queue mode itself: turned off, every waiter gets one last walk
        and its verdict; turned on, requests that come after may wait)."""
        self._routing = routing
        self._follow_queue_mode(routing.config)

    def _follow_queue_mode(self, config: Config) -> None:
        settings = config.settings
        self._tracker.queue_mode = settings.queue_mode
        if not settings.queue_mode:
            if self._queues is not None:
                self._queues.close_all()
                self._queues = None
            return
        wide = _provider_wide(config)
        if self._queues is not None:
            self._queues.reconfigure(settings.queue_max_size, config.chains, wide)
            return
        self._queues = Queues(settings.queue_max_size, config.chains, wide)
        if not self._listening:
            self._tracker.on_release(self._released)
            self._listening = True

    async def serve(self, request: ClientRequest, channel: ClientChannel) -> None:
        routing = self._routing
        chain = routing.resolver.resolve(request.model)
        if chain is None:
            walk = Walk(request, None, routing.redactor, self._clock.now)
            await self._give_up(_model_not_found(request.model), channel, walk)
            return
        walk = Walk(request, chain.name, routing.redactor, self._clock.now)
        task = self.in_flight.enter()
        try:
            if self._queues is not None:
                verdict = await self._queued(routing, self._queues, chain, request, channel, walk)
            elif await self._pass(routing, chain, request, channel, walk):
                verdict = None
            else:
                verdict = self._verdict(routing, chain, walk)
            if verdict is not None:  # no entry served: the verdict is the answer
                await self._give_up(verdict, channel, walk)
        except asyncio.CancelledError:
            if not self.in_flight.was_cut(task):
                self._sink.submit(walk.record(CLIENT_CLOSED_STATUS, "client_closed", closed=True))
                raise
            task.uncancel()
            await self._answer_cut(channel, walk)
        except Exception:
            log.error(
                "internal error", request_id=request.request_id, chain=chain.name, exc_info=True
            )
            await self._internal_error(channel, walk)
        finally:
            self.in_flight.leave(task)

    async def _queued(
        self,
        routing: Routing,
        queues: Queues,
        chain: Chain,
        request: ClientRequest,
        channel: ClientChannel,
        walk: Walk,
    ) -> Verdict | None:
        """Queue mode: wait for a turn, then one ordinary pass; again while an entry frees up
        before the deadline. A request whose deadline came while others were ahead and before
        it ever walked (a change shortened the wait) still walks once, so its verdict says
        when to come back. The verdict when no entry served, else None."""
        clock = self._clock
        deadline = clock.now() + routing.queue_wait_s
        wake_at: float | None = None
        with Line(queues, chain, clock, deadline) as line:
            while (turn := await line.take_turn(wake_at, walk.waited)) is Turn.GO:
                if await self._pass(routing, chain, request, channel, walk):
                    return None
                verdict = self._verdict(routing, chain, walk)
                if verdict.retry_after is None or clock.now() >= deadline:
                    return verdict
                wake_at = _earliest(walk.notes, clock.now())
        if turn is Turn.FULL:
            return self._queue_full(routing, chain, walk)
        if not walk.notes and await self._pass(routing, chain, request, channel, walk):
            return None  # its wait ended before it ever walked: one look, as a head gets
        return self._verdict(routing, chain, walk)

    async def _pass(
        self,
        routing: Routing,
        chain: Chain,
        request: ClientRequest,
        channel: ClientChannel,
        walk: Walk,
    ) -> bool:
        """Walk the chain once; True when an entry answered the client."""
        walk.new_pass()
        tracker = self._tracker
        shared = tracker.shared
        for position, entry in enumerate(chain.entries):
            plan = routing.plans[entry.provider]
            demand = plan.demand(request)
            for tried in range(len(plan.provider.keys)):
                admitted = tracker.admit(plan.provider, entry.model, demand)
                if shared and not isinstance(admitted, Skip):
                    confirmed = await tracker.admit_shared(admitted, demand)
                    if isinstance(confirmed, Skip) and not is_probing(confirmed):
                        provider, model = plan.provider, entry.model
                        confirmed = await next_key(
                            tracker, provider, model, admitted, confirmed, demand
                        )
                    admitted = confirmed
                if not tried and is_probing(admitted):  # this replica's probes, or the fleet's
                    admitted = await self._probe_answer(
                        routing, admitted, position, entry, demand, walk
                    )
                if isinstance(admitted, Skip):
                    if not tried:
                        walk.skipped(position, entry, admitted)
                    break
                step = Step(position, entry, plan, admitted, demand, routing)
                rule = RULES[await self._attempt(step, request, channel, walk)]
                if not rule.walk_on:
                    return True
                if not rule.next_key:
                    break
        return False

    async def _probe_answer(
        self,
        routing: Routing,
        skip: Skip,
        position: int,
        entry: ChainEntry,
        demand: Demand,
        walk: Walk,
    ) -> Reservation | Skip:
        """At an entry that admits only its probes, which are out: wait for their answer and
        ask again, up to `probeWaitMs` (`router.probe_wait`). A request cut short while waiting
        notes it."""
        provider, wait_s = routing.plans[entry.provider].provider, routing.probe_wait_s
        try:
            return await self._probes.wait(
                skip, provider, entry.model, demand, wait_s, walk.probe_waited
            )
        except asyncio.CancelledError:
            walk.left_waiting(position, entry, _cut() if self.in_flight.was_cut() else _closed())
            raise

    async def _attempt(
        self, step: Step, request: ClientRequest, channel: ClientChannel, walk: Walk
    ) -> Outcome:
        """The call at one admitted entry, and what the tracker and the record learn from how
        it ended. A bug on the way is noted as this entry's attempt, then goes up to `serve`."""
        try:
            walk.begin_attempt()
            result, committed = await self._call(step, request, channel, walk)
            self._learn(step, result, committed, walk)
        except Exception:
            position, entry, plan, reservation, _, _ = step
            failed = AttemptResult(Outcome.INTERNAL_ERROR, reason=INTERNAL_ERROR_MESSAGE)
            walk.attempted(position, entry, reservation, failed, failed.reason)
            if channel.answered is not None:
                walk.serving = (plan.provider.id, entry.model, reservation.key_label)
            raise
        return result.outcome

    async def _call(
        self, step: Step, request: ClientRequest, channel: ClientChannel, walk: Walk
    ) -> tuple[AttemptResult, bool]:
        """Send the request upstream and, when the entry serves, answer the client with it
        (the attempt is then committed: True). The reservation is released however it ends."""
        position, entry, plan, reservation, _, routing = step
        committed = False
        used_tokens: int | None = None
        try:
            if request.stream:
                opened = await routing.attempter.open_stream(plan, reservation, request)
                if isinstance(opened, Commit):
                    committed = True
                    result = await self._relay(step, opened, request, channel, walk)
                else:
                    result = opened
            else:
                result = await routing.attempter.call(plan, reservation, request)
                if result.outcome is Outcome.SERVED:
                    committed = True
                    headers = walk.served_headers(plan.provider.id, entry.model, _JSON_HEADERS)
                    try:
                        await channel.reply(200, _served_body(routing, plan, result), headers)
                    except ClientStalled as exc:
                        # The client read none of it in time: the tokens were spent all the same.
                        result = dataclasses.replace(
                            result, outcome=Outcome.CLIENT_CLOSED, reason=str(exc)
                        )
            if result.report is not None:
                self._tracker.observe(reservation, result.report, result.answered_at)
            used_tokens = usage_tokens(result.usage, "total_tokens")
        except asyncio.CancelledError:
            ended = _cut() if self.in_flight.was_cut() else _closed()
            walk.attempted(position, entry, reservation, ended, ended.reason)
            if committed:
                walk.serving = (plan.provider.id, entry.model, reservation.key_label)
            raise
        finally:
            self._tracker.release(reservation, used_tokens)
        return result, committed

    async def _relay(
        self,
        step: Step,
        commit: Commit,
        request: ClientRequest,
        channel: ClientChannel,
        walk: Walk,
    ) -> AttemptResult:
        plan, model, routing = step.plan, step.entry.model, step.routing
        walk.committed()
        try:
            if commit.report is not None:
                self._tracker.observe(step.reservation, commit.report)
            self._tracker.committed(step.reservation)
            await channel.start_stream(walk.served_headers(plan.provider.id, model, _SSE_HEADERS))
        except BaseException:
            commit.response.close()
            raise
        relay = StreamRelay(
            plan, routing.normalize, request.wants_usage, routing.stream_idle_s, routing.redactor
        )
        result = await relay.run(commit, channel)
        with contextlib.suppress(ConnectionError):  # the result already says the client left
            await channel.end_stream()
        return result

    def _learn(self, step: Step, result: AttemptResult, committed: bool, walk: Walk) -> None:
        """The outcome's effect on the entry (`outcome.RULES`, applied by the tracker), the
        attempt on the walk, and the record of a committed attempt."""
        position, entry, plan, reservation, demand, _ = step
        tracker = self._tracker
        reason = result.reason
        now = result.answered_at if result.answered_at is not None else self._clock.now()
        if result.outcome is not Outcome.CLIENT_CLOSED:
            scope = result.report.retry_scope if result.report is not None else Scope.MODEL
            tracker.record(reservation, result.outcome, result.retry_at, reason, scope, now)
        available = (
            None if committed else tracker.available_at(plan.provider, entry.model, demand, now)
        )
        walk.attempted(position, entry, reservation, result, reason, available)
        if committed:
            self._sink.submit(
                walk.served_record(plan.provider.id, entry.model, reservation, result)
            )

    async def _give_up(self, verdict: Verdict, channel: ClientChannel, walk: Walk) -> None:
        headers = {"Content-Type": _JSON}
        if verdict.retry_after is not None:
            headers["Retry-After"] = str(verdict.retry_after)
        with contextlib.suppress(ClientStalled):  # the answer was given; it was not taken
            await channel.reply(verdict.status, verdict.body, walk.headers(headers))
        self._sink.submit(walk.record(verdict.status, verdict.error_class))

    def _verdict(self, routing: Routing, chain: Chain, walk: Walk) -> Verdict:
        direct = routing.resolver.is_direct(chain)
        return decide(chain.name, walk.notes, self._clock.now(), direct=direct)

    def _queue_full(self, routing: Routing, chain: Chain, walk: Walk) -> Verdict:
        what = "entry" if routing.resolver.is_direct(chain) else "chain"
        message = f"The wait queue of {what} '{chain.name}' is full; retry later."
        body = error_body(message, ErrorType.RATE_LIMIT, "queue_full")
        return Verdict(429, body, self._verdict(routing, chain, walk).retry_after, "queue_full")

    async def _internal_error(self, channel: ClientChannel, walk: Walk) -> None:
        """Answer what a bug interrupted: a 500 unless the client already has its answer (a
        started stream was ended by the relay), and the record unless it was already made."""
        status = channel.answered
        if status is None:
            status = 500
            walk.serving = None
            body = error_body(INTERNAL_ERROR_MESSAGE, ErrorType.SERVER, _INTERNAL_ERROR)
            with contextlib.suppress(ClientStalled):
                await channel.reply(status, body, walk.headers({"Content-Type": _JSON}))
        if not walk.recorded:
            self._sink.submit(walk.record(status, _INTERNAL_ERROR))

    async def _answer_cut(self, channel: ClientChannel, walk: Walk) -> None:
        """A shutdown cut the request short: a 503, or an error event on a stream under way
        (an answer already given whole is kept)."""
        if not walk.recorded:
            self._sink.submit(walk.record(SHUTDOWN_STATUS, Outcome.SHUTDOWN.value))
        if channel.answered is None:
            with contextlib.suppress(ClientStalled):
                await channel.reply(
                    SHUTDOWN_STATUS, _SHUTDOWN_BODY, walk.headers({"Content-Type": _JSON})
                )
            return
        if walk.serving is not None:
            with contextlib.suppress(ConnectionError):  # the client left meanwhile
                await channel.write(_SHUTDOWN_EVENT)

    def capacity_freed(self, provider_id: str, model: str, *, provider_wide: bool) -> None:
        """Another replica freed capacity on (`provider_id`, `model`), or on every model of
        the provider's key (`provider_wide`): wake the queues that could use it."""
        queues = self._queues
        if queues is not None:
            queues.wake(provider_id, model, provider_wide=provider_wide)

    def _released(self, reservation: Reservation) -> None:
        """A reservation ended: wake the queues of the chains that could use what it freed
        (every chain of its provider when it held key-wide windows)."""
        queues = self._queues
        if queues is not None:
            wide = self._tracker.holds_key_windows(reservation)
            queues.wake(reservation.provider_id, reservation.model, provider_wide=wide)


def _provider_wide(config: Config) -> list[str]:
    """Providers whose models share one concurrency cap: a release on any of their models may
    let a request for another one in."""
    return [
        p.id
        for p in config.providers
        if p.rate_limits is not None and p.rate_limits.concurrent_requests is not None
    ]


def _served_body(routing: Routing, plan: ProviderPlan, result: AttemptResult) -> bytes:
    """The body a served JSON answer goes to the client with: the upstream's own, unless the
    routing normalises reasoning and the answer has some."""
    body = result.body
    if routing.normalize and result.document is not None and b'"reasoning' in body:
        body = orjson.dumps(plan.adapter.normalize_message(result.document))
    return body


def _model_not_found(model: str | None) -> Verdict:
    message = f"The model '{model}' does not exist (strictModels is on)."
    body = error_body(message, ErrorType.INVALID_REQUEST, "model_not_found", "model")
    return Verdict(404, body, None, "model_not_found")


def _earliest(notes: list[EntryNote], now: float) -> float | None:
    """The next time an entry frees up by itself; `now` when a skip's time (a reset, a
    cooldown's end) has passed since the walk noted it, so a reset that comes while the walk
    goes on is not missed. Entries that are only busy (concurrency, probes out) are left out:
    releasing their reservations wakes the queue anyway."""
    times = [
        max(n.available_at, now) if n.timed else n.available_at
        for n in notes
        if n.available_at is not None and (n.timed or n.available_at > now)
    ]
    return min(times) if times else None


def _closed() -> AttemptResult:
    return AttemptResult(Outcome.CLIENT_CLOSED, reason="client closed the connection")


def _cut() -> AttemptResult:
    return AttemptResult(Outcome.SHUTDOWN, reason="cut short by the proxy's shutdown")
