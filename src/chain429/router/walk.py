"""The bookkeeping of one request's walk: attempts, notes for the client, headers, the record."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Final

from chain429.config.schema import ChainEntry
from chain429.limits.state import Reservation
from chain429.limits.tracker import Skip, SkipReason
from chain429.outcome import Outcome, is_failing
from chain429.redaction import Redactor
from chain429.router.attempt import AttemptResult
from chain429.router.request import ClientRequest
from chain429.router.verdict import EntryNote
from chain429.usage.records import AttemptRecord, RequestRecord

_MAX_TOKENS = 2**63 - 1  # the largest count a 64-bit integer column holds
_COUNTS: Final = ("prompt_tokens", "completion_tokens", "total_tokens")
_NO_COUNTS: Final = (None, None, None)
#: Skips that last as long as requests are in flight (a release ends them), not until a time.
_BUSY = frozenset({SkipReason.CONCURRENCY_FULL, SkipReason.PROBING})


class Walk:
    """Collects what happened at each entry while a request walks its chain."""

    __slots__ = (
        "request",
        "chain",
        "attempts",
        "notes",
        "serving",
        "recorded",
        "queued_ms",
        "_waited_ms",
        "_requested_model",
        "_now",
        "_t0",
        "_ta",
        "_ttft",
    )

    def __init__(
        self,
        request: ClientRequest,
        chain: str | None,
        redactor: Redactor,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.request = request
        # The client's one text on the record, made safe here (a key pasted as a model must
        # not reach a log or the database); it names the chain when the model named none.
        self._requested_model = redactor.redact(request.model or "")
        self.chain = chain if chain is not None else self._requested_model
        self.attempts: list[AttemptRecord] = []
        self.notes: list[EntryNote] = []
        # (provider, model, key label) of a committed stream that the client left mid-way
        self.serving: tuple[str, str, str] | None = None
        self.recorded = False  # a record was built for the sink: there is never a second one
        # time spent waiting in a queue (queue mode), None when the request never waited
        self.queued_ms: float | None = None
        # time spent waiting for an entry's probes to answer, for the next attempt noted
        self._waited_ms: float | None = None
        self._now = now
        self._t0 = time.perf_counter()
        self._ta = self._t0
        self._ttft: float | None = None

    def new_pass(self) -> None:
        """Start a walk down the chain. In queue mode a request walks it again after waiting:
        the skips of an earlier pass are stale and leave the record, the calls made upstream
        stay on it."""
        self.notes.clear()
        if self.attempts:
            self.attempts = [a for a in self.attempts if a.outcome is not Outcome.SKIPPED]

    def waited(self, seconds: float) -> None:
        self.queued_ms = (self.queued_ms or 0.0) + seconds * 1000

    def probe_waited(self, seconds: float) -> None:
        """The next attempt noted waited `seconds` for the answer of its entry's probes."""
        self._waited_ms = seconds * 1000

    def _take_waited(self) -> float | None:
        waited, self._waited_ms = self._waited_ms, None
        return waited

    def left_waiting(self, position: int, entry: ChainEntry, ended: AttemptResult) -> None:
        """The request ended (`ended`: the client left, or a shutdown) while it waited for the
        answer of an entry's probes."""
        reason = f"{ended.reason} while waiting for the entry's first answer"
        self.attempts.append(
            AttemptRecord(
                position,
                entry.provider,
                entry.model,
                None,
                ended.outcome,
                None,
                0.0,
                reason,
                self._take_waited(),
            )
        )

    def begin_attempt(self) -> None:
        self._ta = time.perf_counter()

    def committed(self) -> None:
        self._ttft = (time.perf_counter() - self._t0) * 1000

    def skipped(self, position: int, entry: ChainEntry, skip: Skip) -> None:
        now = self._now()
        reason = skip.detail or skip.reason.value
        self.attempts.append(
            AttemptRecord(
                position,
                entry.provider,
                entry.model,
                None,
                Outcome.SKIPPED,
                None,
                0.0,
                reason,
                self._take_waited(),
            )
        )
        available = now if skip.reason is SkipReason.CONCURRENCY_FULL else skip.until
        summary = f"skipped, {skip.reason.value.replace('_', ' ')} ({reason})"
        failing = skip.reason is SkipReason.FAILING
        self.notes.append(
            EntryNote(
                f"{entry.provider}/{entry.model}",
                Outcome.SKIPPED,
                summary,
                available,
                failing=failing,
                timed=skip.reason not in _BUSY and skip.until is not None,
            )
        )

    def attempted(
        self,
        position: int,
        entry: ChainEntry,
        reservation: Reservation,
        result: AttemptResult,
        reason: str,
        available: float | None = None,
    ) -> None:
        """Note one attempt; `reason` is `result.reason` (made safe where it was built, see
        `router.attempt.UpstreamText`)."""
        latency = (time.perf_counter() - self._ta) * 1000
        self.attempts.append(
            AttemptRecord(
                position,
                entry.provider,
                entry.model,
                reservation.key_label,
                result.outcome,
                result.status,
                latency,
                reason,
                self._take_waited(),
            )
        )
        if result.outcome in (Outcome.SERVED, Outcome.CLIENT_CLOSED, Outcome.SHUTDOWN):
            return
        self.notes.append(
            EntryNote(
                f"{entry.provider}/{entry.model}",
                result.outcome,
                reason,
                available,
                result.status,
                result.error,
                failing=is_failing(result.outcome),
            )
        )

    def headers(self, base: Mapping[str, str], extra_attempts: int = 0) -> dict[str, str]:
        headers = dict(base)
        headers["X-429chain-Attempts"] = str(len(self.attempts) + extra_attempts)
        headers["X-Request-Id"] = self.request.request_id
        return headers

    def served_headers(
        self, provider_id: str, model: str, base: Mapping[str, str]
    ) -> dict[str, str]:
        """Headers of a served answer; `X-429chain-Provider` is `provider/model`, as in the
        original 429chain."""
        headers = self.headers(base, extra_attempts=1)
        headers["X-429chain-Provider"] = f"{provider_id}/{model}"
        return headers

    def record(
        self, status: int, error_class: str | None, *, closed: bool = False
    ) -> RequestRecord:
        return self._record(status, self.serving, None, error_class, closed)

    def served_record(
        self, provider_id: str, model: str, reservation: Reservation, result: AttemptResult
    ) -> RequestRecord:
        closed = result.outcome is Outcome.CLIENT_CLOSED
        error_class = None if result.outcome is Outcome.SERVED else result.outcome.value
        return self._record(
            499 if closed else 200,
            (provider_id, model, reservation.key_label),
            result.usage,
            error_class,
            closed,
        )

    def _record(
        self,
        status: int,
        served_by: tuple[str, str, str] | None,
        usage: Mapping[str, object] | None,
        error_class: str | None,
        closed: bool,
    ) -> RequestRecord:
        self.recorded = True
        request = self.request
        provider_id, model, label = served_by if served_by else (None, None, None)
        prompt, completion, total = token_counts(usage)
        return RequestRecord(
            request_id=request.request_id,
            started_at=request.started_at,
            endpoint=str(request.endpoint),  # a StrEnum's str(): `.value` is a Python property
            chain=self.chain,
            requested_model=self._requested_model,
            provider_id=provider_id,
            model=model,
            key_label=label,
            status=status,
            streamed=request.stream,
            attempts=tuple(self.attempts),
            prompt_tokens=prompt,
            completion_tokens=completion,
            total_tokens=total,
            latency_ms=(time.perf_counter() - self._t0) * 1000,
            ttft_ms=self._ttft,
            error_class=error_class,
            client_closed=closed,
            queued_ms=self.queued_ms,
        )


def usage_tokens(usage: Mapping[str, object] | None, name: str) -> int | None:
    """The integer count `name` of an OpenAI `usage` object, if it has a plausible one.

    A negative count or one past 64 bits is an upstream's garbage: it would corrupt token
    windows and metric counters, and no database column holds it.
    """
    if usage is None:
        return None
    value = usage.get(name)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= _MAX_TOKENS:
        return value
    return None


def token_counts(usage: Mapping[str, object] | None) -> tuple[int | None, int | None, int | None]:
    """The prompt, completion and total counts of `usage` (each as `usage_tokens` reads it),
    in one pass: the record of every request takes all three."""
    if usage is None:
        return _NO_COUNTS
    counts: list[int | None] = [None, None, None]
    for index, name in enumerate(_COUNTS):
        value = usage.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= _MAX_TOKENS:
            counts[index] = value
    prompt, completion, total = counts
    return prompt, completion, total
