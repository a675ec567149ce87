"""Bodies and answers of the test routes (`/api/test`, `/api/test/chain/{name}`), camelCase
in JSON, and the original 429chain's answer of `/v1/test/chain/:name`."""

from __future__ import annotations

from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from chain429.admin.probe import PROBE_MAX_TOKENS, EntryProbe, ProbeStatus, ProbeTokens
from chain429.admin.trial import DEFAULT_PROMPT, TrialResult
from chain429.clock import iso_utc
from chain429.usage.records import AttemptRecord, RequestRecord


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class ChatMessage(BaseModel):
    """A chat message, as OpenAI's API takes it (fields beyond these pass through)."""

    model_config = ConfigDict(extra="allow")

    role: str = Field(min_length=1)
    content: str | list[Any] | None = None


class PromptTestBody(_Model):
    """One prompt through a chain (`chain`, the default chain when nothing is named) or one
    entry (`entry: "provider/model"`, or `provider` with `model`)."""

    chain: str | None = Field(default=None, min_length=1)
    entry: str | None = Field(default=None, pattern=r"^[^/]+/.+$")
    provider: str | None = Field(default=None, min_length=1)
    model: str | None = Field(default=None, min_length=1)
    prompt: str | None = Field(default=None, min_length=1)
    messages: list[ChatMessage] | None = Field(default=None, min_length=1)
    max_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0, le=2)
    stream: bool = False

    @model_validator(mode="after")
    def _one_target_and_one_prompt(self) -> PromptTestBody:
        if (self.provider is None) != (self.model is None):
            raise ValueError("give both `provider` and `model`, or `entry: provider/model`")
        named = [self.chain is not None, self.entry is not None, self.provider is not None]
        if sum(named) > 1:
            raise ValueError("name one target: `chain`, `entry`, or `provider` with `model`")
        if self.prompt is not None and self.messages is not None:
            raise ValueError("give `prompt` or `messages`, not both")
        return self

    def target(self) -> tuple[str | None, str | None, str | None]:
        """(chain, provider, model), as `trial.resolve_target` takes them."""
        if self.entry is not None:
            provider, _, model = self.entry.partition("/")
            return None, provider, model
        return self.chain, self.provider, self.model

    def chat_messages(self) -> list[dict[str, Any]]:
        if self.messages is not None:
            return [m.model_dump(exclude_none=True) for m in self.messages]
        return [{"role": "user", "content": self.prompt or DEFAULT_PROMPT}]


class ServingEntry(_Model):
    provider: str
    model: str
    key_label: str | None


class AttemptAnswer(_Model):
    """One entry considered: skipped (no call), failed, or served."""

    position: int
    provider: str
    model: str
    key_label: str | None
    outcome: str
    status: int | None
    reason: str
    latency_ms: float


class TokenCounts(_Model):
    prompt: int | None
    completion: int | None
    total: int | None


class PromptTestAnswer(_Model):
    """What the test request got. `status` is the HTTP status a client would have had;
    `queuedMs` the time it waited for a turn in queue mode (None when it never waited)."""

    request_id: str
    chain: str
    status: int
    text: str | None
    served_by: ServingEntry | None
    attempts: list[AttemptAnswer]
    tokens: TokenCounts
    latency_ms: float
    ttft_ms: float | None
    queued_ms: float | None


class ErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class PromptTestFailure(PromptTestAnswer):
    """A test request no entry served: the waterfall's own error, with the attempts."""

    error: ErrorDetail


class PromptTestDelta(_Model):
    """A `delta` event of a streamed test: text as it arrived (`reasoning`: the model's
    reasoning rather than its answer)."""

    text: str
    reasoning: bool = False


def prompt_test_answer(result: TrialResult) -> PromptTestAnswer:
    """The answer from what the channel captured and the record the router made; a failure
    when the waterfall answered an error."""
    record, channel = result.record, result.channel
    answer = PromptTestAnswer(
        request_id=result.request_id,
        chain=record.chain,
        status=record.status,
        text=channel.text(),
        served_by=_serving(record),
        attempts=[_attempt(a) for a in record.attempts],
        tokens=TokenCounts(
            prompt=record.prompt_tokens,
            completion=record.completion_tokens,
            total=record.total_tokens,
        ),
        latency_ms=round(record.latency_ms, 3),
        ttft_ms=_ms(record.ttft_ms),
        queued_ms=_ms(record.queued_ms),
    )
    error = _error_of(channel.body) if channel.status != 200 else None
    if error is None:
        return answer
    return PromptTestFailure(**dict(answer), error=error)


def _serving(record: RequestRecord) -> ServingEntry | None:
    if record.provider_id is None or record.model is None:
        return None
    return ServingEntry(provider=record.provider_id, model=record.model, key_label=record.key_label)


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _attempt(attempt: AttemptRecord) -> AttemptAnswer:
    return AttemptAnswer(
        position=attempt.position,
        provider=attempt.provider_id,
        model=attempt.model,
        key_label=attempt.key_label,
        outcome=attempt.outcome.value,
        status=attempt.status,
        reason=attempt.reason,
        latency_ms=round(attempt.latency_ms, 3),
    )


def _error_of(body: bytes) -> ErrorDetail | None:
    try:
        error = orjson.loads(body)["error"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return None
    return ErrorDetail.model_validate(error)


class ChainProbeBody(_Model):
    """`force`: call entries that admission would skip (cooling down, exhausted) anyway."""

    prompt: str = Field(default=DEFAULT_PROMPT, min_length=1)
    max_tokens: int = Field(default=PROBE_MAX_TOKENS, ge=1)
    force: bool = False


class ProbeAnswer(_Model):
    """One entry's probe. `availableAt` (ISO 8601) and `availableInMs`: when a skipped entry
    frees up (None when only a configuration change or a finished request frees it)."""

    position: int
    provider: str
    model: str
    status: Literal["ok", "error", "skipped"]
    key_label: str | None
    latency_ms: float | None
    http_status: int | None
    outcome: str | None
    tokens: TokenCounts | None
    response: str | None
    error: str | None
    skip_reason: str | None
    reason: str | None
    available_at: str | None
    available_in_ms: int | None
    forced: bool
    raw: Any = None


class ProbeSummary(_Model):
    total: int
    ok: int
    failed: int
    skipped: int


class ChainProbeAnswer(_Model):
    chain: str
    results: list[ProbeAnswer]
    summary: ProbeSummary


def chain_probe_answer(chain: str, probes: list[EntryProbe], now: float) -> ChainProbeAnswer:
    return ChainProbeAnswer(
        chain=chain,
        results=[_probe_answer(p, now) for p in probes],
        summary=ProbeSummary(
            total=len(probes),
            ok=_count(probes, ProbeStatus.OK),
            failed=_count(probes, ProbeStatus.ERROR),
            skipped=_count(probes, ProbeStatus.SKIPPED),
        ),
    )


def _probe_answer(probe: EntryProbe, now: float) -> ProbeAnswer:
    until = probe.available_at
    return ProbeAnswer(
        position=probe.position,
        provider=probe.provider,
        model=probe.model,
        status=probe.status.value,
        key_label=probe.key_label,
        latency_ms=None if probe.latency_ms is None else round(probe.latency_ms, 3),
        http_status=probe.http_status,
        outcome=None if probe.outcome is None else probe.outcome.value,
        tokens=_tokens(probe.tokens),
        response=probe.response,
        error=probe.error,
        skip_reason=None if probe.skip_reason is None else probe.skip_reason.value,
        reason=probe.reason,
        available_at=None if until is None else iso_utc(until),
        available_in_ms=None if until is None else max(0, round((until - now) * 1000)),
        forced=probe.forced,
        raw=probe.raw,
    )


def _tokens(tokens: ProbeTokens | None) -> TokenCounts | None:
    if tokens is None:
        return None
    return TokenCounts(prompt=tokens.prompt, completion=tokens.completion, total=tokens.total)


def _count(probes: list[EntryProbe], status: ProbeStatus) -> int:
    return sum(1 for p in probes if p.status is status)


class OriginalTokens(BaseModel):
    prompt: int
    completion: int
    total: int


class OriginalProbeResult(BaseModel):
    """One entry's probe in the original 429chain's shape: the optional fields are left out."""

    model_config = ConfigDict(extra="forbid")

    provider: str
    model: str
    status: Literal["ok", "error"]
    latencyMs: int
    response: str | None = None
    tokens: OriginalTokens | None = None
    error: str | None = None
    raw: Any = None


class OriginalProbeSummary(BaseModel):
    total: int
    ok: int
    failed: int


class OriginalProbeAnswer(BaseModel):
    """`POST /v1/test/chain/:name` as the original 429chain answered it."""

    model_config = ConfigDict(extra="forbid")

    chain: str
    results: list[OriginalProbeResult]
    summary: OriginalProbeSummary


def original_probe_answer(chain: str, probes: list[EntryProbe]) -> dict[str, Any]:
    """The original 429chain's answer: ok or error per entry, optional fields left out."""
    results = [_original_result(p) for p in probes]
    ok = sum(1 for r in results if r["status"] == "ok")
    return {
        "chain": chain,
        "results": results,
        "summary": {"total": len(results), "ok": ok, "failed": len(results) - ok},
    }


def _original_result(probe: EntryProbe) -> dict[str, Any]:
    result: dict[str, Any] = {
        "provider": probe.provider,
        "model": probe.model,
        "status": "ok" if probe.status is ProbeStatus.OK else "error",
        "latencyMs": round(probe.latency_ms or 0.0),
    }
    if probe.response is not None:
        result["response"] = probe.response
    if probe.tokens is not None:
        t = probe.tokens
        result["tokens"] = {"prompt": t.prompt, "completion": t.completion, "total": t.total}
    if probe.status is not ProbeStatus.OK:
        result["error"] = probe.error or probe.reason or probe.status.value
    if probe.raw is not None:
        result["raw"] = probe.raw
    return result
