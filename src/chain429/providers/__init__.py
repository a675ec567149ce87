"""Provider adapters: URLs, auth, request tweaks, rate-limit header dialects, error bodies and
response normalisation, one small adapter per provider type. Pure code: no I/O here."""

from __future__ import annotations

from chain429.providers.base import ProviderAdapter
from chain429.providers.dialects import Dialect, parse_limit_headers
from chain429.providers.error_body import UpstreamErrorInfo, in_band_error, parse_error_body
from chain429.providers.registry import adapter_for
from chain429.redaction import redact

__all__ = [
    "Dialect",
    "ProviderAdapter",
    "UpstreamErrorInfo",
    "adapter_for",
    "in_band_error",
    "parse_error_body",
    "parse_limit_headers",
    "redact",
]
