"""The configuration schema: frozen pydantic models, field names as in the original 429chain.

YAML keys are camelCase (`cooldownDefaultMs`); Python attributes are snake_case
(`cooldown_default_ms`). Unknown keys are errors so a typo is never silently dropped.
"""

from __future__ import annotations

import re
from enum import StrEnum
from functools import cached_property
from typing import Annotated, Final, Literal
from urllib.parse import unquote, urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AliasGenerator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from chain429.config.cluster_url import is_cluster_url, parse_cluster_url
from chain429.config.keys import is_secret_header
from chain429.config.redis_url import parse_redis_url


class ProviderType(StrEnum):
    """The provider types, the one list of them: each has its adapter, holding all that is
    particular to it (header dialect included), in `chain429/providers/<type>.py`."""

    OPENROUTER = "openrouter"
    GROQ = "groq"
    CEREBRAS = "cerebras"
    OPENAI = "openai"
    GOOGLE_AI = "google-ai"
    MISTRAL = "mistral"
    GITHUB_MODELS = "github-models"
    NVIDIA_NIM = "nvidia-nim"
    GENERIC_OPENAI = "generic-openai"


DEFAULT_BASE_URLS: dict[ProviderType, str] = {
    ProviderType.OPENROUTER: "https://openrouter.ai/api/v1",
    ProviderType.GROQ: "https://api.groq.com/openai/v1",
    ProviderType.CEREBRAS: "https://api.cerebras.ai/v1",
    ProviderType.OPENAI: "https://api.openai.com/v1",
    ProviderType.GOOGLE_AI: "https://generativelanguage.googleapis.com/v1beta/openai",
    ProviderType.MISTRAL: "https://api.mistral.ai/v1",
    ProviderType.GITHUB_MODELS: "https://models.github.ai/inference",
    ProviderType.NVIDIA_NIM: "https://integrate.api.nvidia.com/v1",
}

LogLevel = Literal["trace", "debug", "info", "warn", "warning", "error", "fatal"]
PositiveInt = Annotated[int, Field(gt=0)]
NonEmptyStr = Annotated[str, Field(min_length=1)]
#: `settings.stateStore`: the limit state of this process alone, or a Redis URL's.
MEMORY_STORE: Final = "memory"
REDIS_SCHEMES: Final = ("redis://", "rediss://")
#: What a browser sends as `Origin`: scheme, host and maybe a port; no path, no slash at the end.
_ORIGIN: Final = re.compile(r"https?://[^/\s]+")


class EnvironmentText(str):
    """A string that `${VAR}` filled from the environment (see `config.interpolation`)."""

    __slots__ = ()


def _environment_boolean(value: object) -> object:
    # Variables have no types: `${QUEUE_MODE}` holding "true" means the boolean.
    if isinstance(value, EnvironmentText) and value in ("true", "false"):
        return value == "true"
    return value


#: A boolean written as one (`true`/`false`, unquoted): "yes", "1" or "on" are errors.
Boolean = Annotated[bool, Strict(), BeforeValidator(_environment_boolean)]


#: Every config model: immutable, strict about unknown keys, camelCase in files.
MODEL_CONFIG = ConfigDict(
    frozen=True,
    extra="forbid",
    populate_by_name=True,
    alias_generator=AliasGenerator(validation_alias=to_camel, serialization_alias=to_camel),
)


class _Model(BaseModel):
    model_config = MODEL_CONFIG


class RateLimits(_Model):
    """Manual limits for a provider or a chain entry, used where headers say nothing."""

    requests_per_minute: PositiveInt | None = None
    requests_per_hour: PositiveInt | None = None
    requests_per_day: PositiveInt | None = None
    tokens_per_minute: PositiveInt | None = None
    tokens_per_day: PositiveInt | None = None
    concurrent_requests: PositiveInt | None = None


_HEADER_NAME: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_CONTROL: Final = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


class ProviderConfig(_Model):
    """One upstream account: where it is, how to authenticate, what it allows."""

    id: NonEmptyStr
    name: str = ""
    type: ProviderType
    api_key: NonEmptyStr | None = None
    api_keys: tuple[NonEmptyStr, ...] = ()
    base_url: str | None = None
    timeout: Annotated[int, Field(ge=100)] | None = None
    rate_limits: RateLimits | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    keys_share_limits: Boolean | None = None
    daily_reset_timezone: str | None = None

    @field_validator("daily_reset_timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is None:
            return value
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone '{value}' (use an IANA name such as UTC)"
            ) from None
        return value

    @field_validator("headers")
    @classmethod
    def _sendable_headers(cls, value: dict[str, str]) -> dict[str, str]:
        """Headers HTTP can carry: a token for each name, no control character in a value
        (which is never quoted: it may be a key)."""
        for name, header in value.items():
            if not _HEADER_NAME.fullmatch(name):
                raise ValueError(f"'{name[:100]}' is not a valid HTTP header name")
            if _CONTROL.search(header):
                raise ValueError(f"the value of header '{name}' holds a control character")
        return value

    @field_validator("api_key", "api_keys")
    @classmethod
    def _sendable_keys(cls, value: str | tuple[str, ...] | None) -> str | tuple[str, ...] | None:
        """A key goes in a header: no control character (the key is never quoted)."""
        keys = (value,) if isinstance(value, str) else value or ()
        if any(_CONTROL.search(key) for key in keys):
            raise ValueError("a key holds a control character, which no HTTP header can carry")
        return value

    @field_validator("id")
    @classmethod
    def _no_slash(cls, value: str) -> str:
        if "/" in value:
            raise ValueError(f"'{value}' contains '/', which `provider/model` addressing reserves")
        return value

    @field_validator("type", mode="before")
    @classmethod
    def _known_type(cls, value: object) -> object:
        known = [t.value for t in ProviderType]
        if isinstance(value, str) and value not in known:
            raise ValueError(f"unknown provider type '{value}'; expected one of {', '.join(known)}")
        return value

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(f"'{value}' is not an http(s) URL")
        return value.rstrip("/") if value else value

    @model_validator(mode="after")
    def _complete(self) -> ProviderConfig:
        if self.api_key is None and not self.api_keys:
            raise ValueError("needs apiKey (or apiKeys)")
        if self.type is ProviderType.GENERIC_OPENAI and not self.base_url:
            raise ValueError("type generic-openai needs baseUrl")
        return self

    @cached_property
    def keys(self) -> tuple[str, ...]:
        """Every key of this provider, `apiKey` first."""
        head = (self.api_key,) if self.api_key else ()
        return head + tuple(k for k in self.api_keys if k != self.api_key)

    @property
    def resolved_base_url(self) -> str:
        return self.base_url or DEFAULT_BASE_URLS[self.type]


class ChainEntry(_Model):
    provider: NonEmptyStr
    model: NonEmptyStr
    rate_limits: RateLimits | None = None


class Chain(_Model):
    name: NonEmptyStr
    entries: Annotated[tuple[ChainEntry, ...], Field(min_length=1)]


#: The URL schemes of `settings.database`: PostgreSQL, through psycopg 3.
DATABASE_URL_SCHEMES: Final = ("postgresql", "postgres", "postgresql+psycopg")


def is_database_url(text: str) -> bool:
    """Whether `text` is a URL `settings.database` takes (by its scheme)."""
    scheme, separator, _ = text.partition("://")
    return bool(separator) and scheme.lower() in DATABASE_URL_SCHEMES


def url_passwords(url: str | None) -> tuple[str, ...]:
    """The password in `url` (`settings.database`, `settings.stateStore`), as written and
    decoded (what redaction must remove)."""
    password = urlsplit(url).password if url else None
    return (password, unquote(password)) if password else ()


def shown_url(url: str) -> str:
    """`url` (`settings.database`, `settings.stateStore`) with its password replaced by `***`,
    for answers and messages; sent back as shown, it leaves the setting unchanged."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user, _, _ = parts.netloc.rpartition("@")[0].partition(":")
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


class Settings(_Model):
    """The proxy's settings. Each field's description is the one text that says what it means:
    the management API answers it (`GET /api/settings/fields`) and the dashboard shows it."""

    host: str = Field(
        "127.0.0.1", description="Listen address (`0.0.0.0` to serve other machines)."
    )
    port: Annotated[int, Field(ge=0, le=65535)] = Field(3429, description="Listen port.")
    api_keys: Annotated[tuple[NonEmptyStr, ...], Field(min_length=1)] = Field(
        description="Keys clients send as `Authorization: Bearer <key>`."
    )
    default_chain: NonEmptyStr = Field(
        description="The chain that serves any `model` that is not a chain name."
    )
    log_level: LogLevel = Field(
        "info", description="How much the log says: trace, debug, info, warn, error or fatal."
    )
    cooldown_default_ms: Annotated[int, Field(ge=0)] = Field(
        60_000,
        description="Cooldown after a 429 that carries no timing; each further such cooldown "
        "in a row doubles it (up to an hour).",
    )
    max_cooldown_ms: Annotated[int, Field(ge=1000)] = Field(
        604_800_000,
        description="The longest any provider's headers or error body can bench an entry or "
        "key (default 7 days): a longer reset or retry time is cut to this, and logged.",
    )
    request_timeout_ms: Annotated[int, Field(ge=100)] = Field(
        30_000, description="Per attempt: until the whole answer, or a stream's first content."
    )
    stream_idle_timeout_ms: Annotated[int, Field(ge=100)] = Field(
        30_000, description="A committed stream silent this long is ended with an error event."
    )
    db_path: str = Field(
        "./data/429chain.db",
        description="SQLite file for usage records and the saved rate-limit state.",
    )
    database: str | None = Field(
        None,
        description="A PostgreSQL URL (`postgresql://user:password@host:5432/name`) for usage "
        "records and the saved rate-limit state instead of the SQLite file at `dbPath`: "
        "replicas that share one database each show the whole fleet's statistics. Absent: "
        "`dbPath`. Answers show its password as `***` (sent back, it keeps the password).",
    )
    state_store: str = Field(
        "memory",
        description="Where the limit state lives: `memory` (this process alone) or a "
        "`redis://` (`rediss://` for TLS) URL that several replicas share, so that together "
        "they never send more than a limit allows; a Redis Cluster is "
        "`redis+cluster://host:6379,host2:6379` (`rediss+cluster://` for TLS), naming one or "
        "more of its nodes (the management API shows its password as `***`).",
    )
    record_usage: Boolean = Field(
        True,
        description="Write a usage record per request (off: metrics and logs only, no database).",
    )
    normalize_responses: Boolean = Field(
        False, description="Move `reasoning_content`/`reasoning` into `content`."
    )
    mid_stream_failure_threshold: PositiveInt = Field(
        3, description="Mid-stream failures of an entry before it cools down."
    )
    mid_stream_cooldown_ms: Annotated[int, Field(ge=0)] = Field(
        30_000,
        description="First cooldown after the mid-stream failure threshold; doubles on each "
        "repeat, and that many answers served in a row take one doubling back.",
    )
    mid_stream_cooldown_max_ms: Annotated[int, Field(ge=0)] = Field(
        600_000, description="Cap of the mid-stream cooldown's doubling."
    )
    queue_mode: Boolean = Field(
        False,
        description="Wait for capacity instead of answering 429 when all entries are exhausted.",
    )
    queue_max_wait_ms: Annotated[int, Field(ge=0)] = Field(
        30_000, description="Longest a queued request waits."
    )
    queue_max_size: Annotated[int, Field(ge=0)] = Field(
        100, description="Most requests waiting at once."
    )
    max_body_bytes: PositiveInt = Field(
        10 * 1024 * 1024, description="Larger request bodies get a 413."
    )
    strict_models: Boolean = Field(
        False,
        description="An unknown `model` is a 404 `model_not_found` and a missing one a 400, "
        "instead of going to the default chain.",
    )
    failure_penalty_ms: Annotated[int, Field(ge=0)] = Field(
        5_000,
        description="How long an entry sits out after a 5xx, timeout, connection error or "
        "garbage answer.",
    )
    log_retention_days: PositiveInt = Field(
        30, description="Usage records older than this many days are pruned."
    )
    metrics_public: bool = Field(
        False,
        description="Serve `/metrics` without a client key (Prometheus scrapers often carry "
        "none); every other route still needs one.",
    )
    shutdown_grace_ms: Annotated[int, Field(ge=0)] = Field(
        10_000,
        description="On SIGTERM, how long requests in flight may take to finish; the rest are "
        "cut short.",
    )
    admin_keys: tuple[NonEmptyStr, ...] = Field(
        (),
        description="Keys for the management API and the dashboard, apart from the client "
        "keys; without any, the management API only reads and refuses every write.",
    )
    cors_origins: tuple[str, ...] = Field(
        (),
        description="Origins (`scheme://host[:port]`) whose browser pages may call the proxy "
        "and the management API; none: no CORS header is ever sent.",
    )
    probe_concurrency: PositiveInt = Field(
        1,
        description="Requests let through at once to an entry whose limits are unknown or "
        "whose last answer was a failure, until an answer arrives.",
    )
    probe_wait_ms: Annotated[int, Field(ge=0)] = Field(
        2_000,
        description="How long other requests wait at such an entry for that answer; `0` walks "
        "on down the chain at once.",
    )
    client_timeout_ms: Annotated[int, Field(ge=100)] = Field(
        30_000,
        description="How long a client may take to send a request: a request head not whole "
        "by then (counted from the connection's opening, or from the previous answer on a "
        "kept-alive connection, which is also how long one may sit idle) closes the "
        "connection; a body not whole this long after its head gets a 408.",
    )
    max_response_bytes: PositiveInt = Field(
        64 * 1024 * 1024,
        description="The largest whole (non-streamed) answer taken from a provider: one larger "
        "is a bad answer and the next entry is tried. A whole answer is held in memory until "
        "the client has read it. Streams are relayed as they come; one event of a stream is "
        "limited likewise (a longer one, or a line that never ends, breaks the stream).",
    )

    @field_validator("database")
    @classmethod
    def _database_url(cls, value: str | None) -> str | None:
        # The value is not quoted: it can hold a password.
        if value is not None and not is_database_url(value):
            raise ValueError(
                "not a PostgreSQL URL: write postgresql://user:password@host:port/database "
                "(an SQLite file is set with dbPath)"
            )
        return value

    @field_validator("state_store")
    @classmethod
    def _state_store(cls, value: str) -> str:
        if value == MEMORY_STORE:
            return value
        if is_cluster_url(value):
            parse_cluster_url(value)  # a ValueError says what is wrong with it
            return value
        if not value.startswith(REDIS_SCHEMES):
            raise ValueError(
                "write `memory`, or a Redis URL: redis://host:6379/0 (rediss:// for TLS), or a "
                "Redis Cluster's: redis+cluster://host:6379,host2:6379"
            )
        try:  # what the connection will read, refused now rather than when the proxy starts
            parse_redis_url(value)
        except ValueError as exc:
            raise ValueError(str(exc)) from None  # they quote no part of the URL
        return value

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for origin in value:
            if not _ORIGIN.fullmatch(origin):
                raise ValueError(
                    f"'{origin}' is not an origin: write scheme://host[:port], "
                    "without a path or a trailing slash (e.g. http://localhost:5173)"
                )
        return value

    @model_validator(mode="after")
    def _keys_apart(self) -> Settings:
        if set(self.admin_keys) & set(self.api_keys):
            # The message never echoes the key.
            raise ValueError(
                "adminKeys: a key may not be both a client key (apiKeys) and an admin key"
            )
        return self


class Config(_Model):
    """A whole, cross-checked configuration."""

    version: Literal[1]
    settings: Settings
    providers: Annotated[tuple[ProviderConfig, ...], Field(min_length=1)]
    chains: Annotated[tuple[Chain, ...], Field(min_length=1)]

    @model_validator(mode="after")
    def _cross_check(self) -> Config:
        problems: list[str] = []
        seen: set[str] = set()
        for i, provider in enumerate(self.providers):
            if provider.id in seen:
                problems.append(f"providers[{i}].id: duplicate provider id '{provider.id}'")
            seen.add(provider.id)
        names: set[str] = set()
        for i, chain in enumerate(self.chains):
            if chain.name in names:
                problems.append(f"chains[{i}].name: duplicate chain name '{chain.name}'")
            names.add(chain.name)
            for j, entry in enumerate(chain.entries):
                if entry.provider not in seen:
                    problems.append(
                        f"chains[{i}].entries[{j}].provider: unknown provider '{entry.provider}'"
                    )
        if self.settings.default_chain not in names:
            problems.append(
                f"settings.defaultChain: no chain named '{self.settings.default_chain}'"
            )
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def provider(self, provider_id: str) -> ProviderConfig:
        return next(p for p in self.providers if p.id == provider_id)

    def chain(self, name: str) -> Chain | None:
        return next((c for c in self.chains if c.name == name), None)

    def secrets(self) -> tuple[str, ...]:
        """Every provider, client and admin key, and the value of every provider header that
        carries a credential (`keys.is_secret_header`), longest first (what redaction removes)."""
        keys = {k for p in self.providers for k in p.keys} | set(self.settings.api_keys)
        keys |= set(self.settings.admin_keys)
        keys |= set(url_passwords(self.settings.database))
        keys |= set(url_passwords(self.settings.state_store))
        keys |= {
            value
            for p in self.providers
            for name, value in p.headers.items()
            if is_secret_header(name)
        }
        return tuple(sorted(keys, key=len, reverse=True))
