"""Provider adapters, one module per provider type (named after its `ProviderType`) holding
everything about that provider: URL, auth, request tweaks, its rate-limit header dialect, its
error-body quirks and response normalisation. Shared reading (headers, durations, instants, the
IETF draft, error bodies, retry phrases) lives in modules named for what they read. Pure code:
no I/O here."""

from __future__ import annotations

from chain429.providers.base import ProviderAdapter
from chain429.providers.error_body import in_band_error, parse_error_body
from chain429.providers.error_info import UpstreamErrorInfo
from chain429.providers.registry import adapter_for

__all__ = [
    "ProviderAdapter",
    "UpstreamErrorInfo",
    "adapter_for",
    "in_band_error",
    "parse_error_body",
]
