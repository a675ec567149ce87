"""Configuration: the schema, loading from YAML, and the example file."""

from __future__ import annotations

from chain429.config.load import load_config, parse_config, validate_config
from chain429.config.schema import (
    Chain,
    ChainEntry,
    Config,
    ProviderConfig,
    ProviderType,
    RateLimits,
    Settings,
)

__all__ = [
    "Chain",
    "ChainEntry",
    "Config",
    "ProviderConfig",
    "ProviderType",
    "RateLimits",
    "Settings",
    "load_config",
    "parse_config",
    "validate_config",
]
