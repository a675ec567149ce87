"""The provider adapter: everything that differs between OpenAI-compatible upstreams.

An adapter is stateless and holds no configuration: one instance per provider type serves every
provider of that type, the `ProviderConfig` being passed to each call. It builds the upstream
URL, headers and body, reads what a response says about limits, and normalises responses. This
base behaves like a plain OpenAI-compatible server; each provider's module (named after its
`ProviderType`) overrides what that provider does differently, its header dialect included.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from chain429.config.schema import ProviderConfig, ProviderType
from chain429.limits.metric import KeyLimit, LimitReport, Metric, Source
from chain429.providers.error_info import UpstreamErrorInfo
from chain429.providers.header_view import HeaderView
from chain429.providers.ietf import parse_ietf, parse_retry_after
from chain429.providers.normalization import normalize_chunk, normalize_message

JSON_CONTENT_TYPE = "application/json"
#: What a response without rate-limit headers says (most do): one shared, immutable report.
NO_LIMITS = LimitReport()


def set_header(headers: dict[str, str], name: str, value: str) -> None:
    """Set `name` in `headers`, replacing any header of the same name in another case."""
    for existing in [k for k in headers if k.lower() == name.lower()]:
        del headers[existing]
    headers[name] = value


def _latest(*instants: float | None) -> float | None:
    known = [t for t in instants if t is not None]
    return max(known) if known else None


@dataclass(frozen=True, slots=True)
class ProviderAdapter:
    """Base for every adapter; behaves like a plain OpenAI-compatible server.

    `reserves_max_tokens`: the provider counts a request's `max_tokens` against the token limit
    up front (Cerebras), so token estimates must include it.
    `keys_share_org_limits`: every key of one account draws on one set of limits, so limits
    learned through one key apply to its siblings. False where a provider lets one person hold
    several accounts (orgs, projects) and nothing says whether two configured keys share one:
    each key is then tracked alone, and a 429 corrects the view if they do share. True for
    OpenRouter, which governs capacity per account whatever the number of keys.
    """

    type: ClassVar[ProviderType]
    reserves_max_tokens: ClassVar[bool] = False
    keys_share_org_limits: ClassVar[bool] = False

    def url(self, provider: ProviderConfig, path: str) -> str:
        """The upstream URL for an OpenAI API path such as `/chat/completions`."""
        return f"{provider.resolved_base_url.rstrip('/')}/{path.lstrip('/')}"

    def extra_headers(self) -> Mapping[str, str]:
        """Headers this provider type always sends (before the provider's own `headers`)."""
        return {}

    def headers(self, provider: ProviderConfig, api_key: str) -> dict[str, str]:
        """Request headers: bearer auth, JSON, this type's extras, then the provider's `headers`
        (which win, whatever their case, so a provider may change any of them)."""
        headers = {"Authorization": f"Bearer {api_key}", "Content-Type": JSON_CONTENT_TYPE}
        for name, value in (*self.extra_headers().items(), *provider.headers.items()):
            set_header(headers, name, value)
        return headers

    def prepare(self, body: Mapping[str, Any], model: str) -> dict[str, Any]:
        """A new request body for this entry: `model` set, this provider's tweaks applied, every
        other field as the client sent it. `body` is never modified (the router reuses it)."""
        return {**body, "model": model}

    def header_metrics(self, headers: HeaderView, now: float) -> list[Metric]:
        """The metrics in this provider's own rate-limit headers, its dialect (PROVIDERS.md).
        None here: `Retry-After` and the IETF draft are read for every provider anyway."""
        return []

    def header_report(self, headers: Mapping[str, str], now: float) -> LimitReport:
        """Everything the headers of one response say about limits: this provider's dialect
        plus the headers any server may send. `reason` is the `x-ratelimit-type` label when
        sent (GitHub Models names the limit a 429 hit there; read whatever the provider)."""
        view = HeaderView(headers)
        if not view:
            return NO_LIMITS
        metrics = [*self.header_metrics(view, now), *parse_ietf(view, now)]
        retry_at = parse_retry_after(view, now)
        reason = view.text("x-ratelimit-type")
        return LimitReport(
            metrics=tuple(metrics),
            retry_at=retry_at,
            reason=reason,
            raw_unparsed=view.malformed + view.unread,
        )

    def limit_report(
        self, headers: Mapping[str, str], error: UpstreamErrorInfo | None, now: float
    ) -> LimitReport:
        """What a response says about limits: its headers (`header_report`) and the retry hints
        of `error`, the error the response carried (already parsed by the caller, so a body is
        decoded once: `parse_error_body` for a failed response, `in_band_error` for one inside
        a 2xx; None when there was none). Rate-limit headers the error body embedded stand in
        when the response itself sent none. The retry time is the latest of all that were
        given; `reason` prefers the provider's header label (`x-ratelimit-type`)."""
        report = self.header_report(headers, now)
        if error is None:
            return report
        metrics = report.metrics
        if error.embedded_headers and not metrics:
            embedded = self.header_report(dict(error.embedded_headers), now)
            metrics = tuple(replace(m, source=Source.BODY) for m in embedded.metrics)
        return LimitReport(
            metrics=metrics,
            retry_at=_latest(report.retry_at, error.retry_at),
            reason=report.reason or error.reason,
            raw_unparsed=report.raw_unparsed,
            retry_scope=error.retry_scope if error.reason else report.retry_scope,
        )

    def key_info_url(self, provider: ProviderConfig) -> str | None:
        """Where this provider states a key's limits apart from any request (read at start and
        every few minutes, see `router.key_info`); None when it has no such endpoint."""
        return None

    def key_limits(self, document: Any) -> tuple[KeyLimit, ...]:
        """The key-wide limits in the JSON answer of `key_info_url`; () for what it lacks."""
        return ()

    def normalize_message(self, obj: dict[str, Any]) -> dict[str, Any]:
        """A non-stream response with reasoning moved into empty content (see normalization)."""
        return normalize_message(obj)

    def normalize_chunk(self, obj: dict[str, Any]) -> dict[str, Any]:
        """A stream chunk with reasoning moved into empty delta content (see normalization)."""
        return normalize_chunk(obj)
