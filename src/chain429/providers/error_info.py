"""What an upstream error said, once read: the value `error_body` produces from any body and
`ProviderAdapter.limit_report` turns into limits (kept apart so both can import it)."""

from __future__ import annotations

from dataclasses import dataclass

from chain429.limits.metric import RawHeaders, Scope


@dataclass(frozen=True, slots=True)
class UpstreamErrorInfo:
    """An upstream error, read. `message` is short, single-line and printable (the router
    removes secrets from it, see `router.attempt`); `type` and `code` are the provider's own
    labels (`code` as text, so `429` and `"rate_limit_exceeded"` look alike); `retry_at`,
    `reason` and `retry_scope` come from the body's retry hints; `embedded_headers` are
    rate-limit headers the body carried (OpenRouter's `error.metadata.headers`)."""

    message: str
    type: str | None = None
    code: str | None = None
    retry_at: float | None = None
    reason: str | None = None
    retry_scope: Scope = Scope.MODEL
    embedded_headers: RawHeaders = ()
