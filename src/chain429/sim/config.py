"""What a simulated provider is and how it behaves: limits, dialect, latency, injected failures.

YAML and `/_control` keys may be camelCase (`requestsPerWindow`) or snake_case
(`requests_per_window`), like the main config. Rates are probabilities in 0..1 drawn from a
`random.Random(seed)` per provider, so a run is reproducible.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from chain429.config.load import read_text, read_yaml
from chain429.config.problems import describe_validation_error
from chain429.config.schema import MODEL_CONFIG
from chain429.errors import ConfigError

Rate = Annotated[float, Field(ge=0.0, le=1.0)]
Millis = Annotated[float, Field(ge=0.0)]
Count = Annotated[int, Field(gt=0)]
Seconds = Annotated[float, Field(gt=0.0)]


class Dialect(StrEnum):
    """The rate-limit header family a simulated provider speaks (see PROVIDERS.md)."""

    GROQ = "groq"
    CEREBRAS = "cerebras"
    OPENROUTER = "openrouter"
    OPENAI = "openai"
    NONE = "none"


class SimProviderConfig(BaseModel):
    """One simulated provider. Every limit is optional; `None` means unlimited."""

    model_config = MODEL_CONFIG

    name: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9._-]+$")]
    prefix: str | None = None
    """URL path prefix; `None` means `/{name}`, `""` serves at the root (single provider only)."""
    dialect: Dialect = Dialect.OPENAI
    gemini_body: bool = False
    """With dialect `none`: a 429 carries a Gemini RetryInfo body instead of `retry-after`."""
    retry_after: bool = True
    """False: a 429 carries no `retry-after` header (nor a body retry delay): a bare refusal,
    so a client learns when the window ends only by being served again."""
    models: tuple[str, ...] = ("sim-small", "sim-large")
    reject_unknown_models: bool = False

    requests_per_window: Count | None = None
    window_seconds: Seconds = 60.0
    tokens_per_window: Count | None = None
    token_window_seconds: Seconds = 60.0
    requests_per_day: Count | None = None
    """Daily request cap, reset at midnight UTC."""

    reply_words: Count = 12
    words_per_chunk: Count = 1
    latency_ms: Millis = 0.0
    ttft_ms: Millis = 0.0
    inter_chunk_ms: Millis = 0.0

    seed: int = 0
    error_rate: Rate = 0.0
    error_status: Annotated[int, Field(ge=500, le=599)] = 500
    drop_rate: Rate = 0.0
    drop_after_chunks: Annotated[int, Field(ge=0)] = 2
    hang_rate: Rate = 0.0
    garbage_rate: Rate = 0.0
    inband_error_rate: Rate = 0.0
    status_override: Annotated[int, Field(ge=400, le=599)] | None = None
    """Answer every request with this status (401, 402, 403, 404, 5xx...) and an error body."""
    api_key: str | None = Field(default=None, repr=False)
    """When set, a request whose bearer token differs gets a 401."""
    free_tier: bool = True
    """What `GET {prefix}/v1/key` says of the key (OpenRouter's `is_free_tier`: no credits
    bought yet)."""

    @field_validator("prefix")
    @classmethod
    def _clean_prefix(cls, value: str | None) -> str | None:
        return None if value is None else value.strip("/")

    @property
    def path_prefix(self) -> str:
        """`/groqsim` (or `""` for a root provider), without a trailing slash."""
        prefix = self.name if self.prefix is None else self.prefix
        return f"/{prefix}" if prefix else ""


class SimConfig(BaseModel):
    """A whole simulator: where it listens and which providers it hosts."""

    model_config = MODEL_CONFIG

    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = 0
    providers: Annotated[tuple[SimProviderConfig, ...], Field(min_length=1)]

    @model_validator(mode="after")
    def _distinct(self) -> SimConfig:
        check_providers(self.providers)
        return self


def check_providers(providers: tuple[SimProviderConfig, ...]) -> None:
    """Names and prefixes must be unique; a root provider must be alone."""
    names = [p.name for p in providers]
    prefixes = [p.path_prefix for p in providers]
    if len(set(names)) != len(names):
        raise ValueError("simulated provider names must be unique")
    if len(set(prefixes)) != len(prefixes):
        raise ValueError("simulated provider prefixes must be unique")
    if "" in prefixes and len(providers) > 1:
        raise ValueError("a provider with prefix '' must be the only provider")


def merge_config(config: SimProviderConfig, changes: Mapping[str, Any]) -> SimProviderConfig:
    """Return `config` with `changes` applied (camelCase or snake_case keys), validated."""
    data = config.model_dump(by_alias=True)
    fields = SimProviderConfig.model_fields
    for key, value in changes.items():
        alias = to_camel(key) if key in fields else key
        data[alias] = value
    try:
        merged = SimProviderConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc)) from exc
    if merged.name != config.name or merged.path_prefix != config.path_prefix:
        raise ConfigError(["name and prefix cannot change at run time"])
    return merged


def parse_sim_config(text: str, *, source: str = "<sim config>") -> SimConfig:
    """Validate YAML text as a simulator config."""
    raw = read_yaml(text, source)
    if isinstance(raw, list):
        raw = {"providers": raw}
    try:
        return SimConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc)) from exc


def load_sim_config(path: str | Path) -> SimConfig:
    """Read and validate a simulator YAML file."""
    return parse_sim_config(read_text(path, "sim config"), source=str(path))
