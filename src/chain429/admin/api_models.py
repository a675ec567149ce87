"""The management API's bodies and answers: pydantic models, camelCase in JSON like the config.

Keys are write-only. Answers name a key by its label (`…abcd`, as logs and metrics do), never
the key itself nor the `${VAR}` it came from. Bodies take keys in `apiKey`/`apiKeys` (settings:
`apiKeys`/`adminKeys`); a body that leaves them out keeps the current keys, and the labels an
answer showed, sent back as they came (`keys`, `apiKeyLabels`, `adminKeyLabels`), are ignored:
a client that reads an object and writes it back never replaces a key with its label. A
provider's header values (which may be keys) are write-only too: answers show each as its label
(`…abcd`, `…` for a value under 8 characters), and a label sent back keeps the value.

Bodies are checked here first (shape, types), then, merged into the configuration, by the
config schema itself (cross-checks such as unknown providers), so the file and the API can
never accept different things. The nested `RateLimits` and `ChainEntry` are the config's own.
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool
from pydantic.alias_generators import to_camel

from chain429.config.schema import ChainEntry, LogLevel, ProviderType, RateLimits, Settings

API_MODEL_CONFIG: Final = ConfigDict(
    alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
)

NonEmptyStr = Annotated[str, Field(min_length=1)]
PositiveInt = Annotated[int, Field(gt=0)]
NonNegativeInt = Annotated[int, Field(ge=0)]
Timeout = Annotated[int, Field(ge=100)]
Port = Annotated[int, Field(ge=0, le=65535)]
#: Sent back from an answer, ignored: keys are write-only.
IGNORED_LABELS: Final = "Labels of the keys, as answers show them: ignored when sent."


class ApiModel(BaseModel):
    model_config = API_MODEL_CONFIG


def _settings_meanings(schema: dict[str, Any]) -> None:
    """Each setting's description in the OpenAPI document, from the config schema (its one
    home), for the settings answers and bodies."""
    properties = schema.get("properties", {})
    for name, info in Settings.model_fields.items():
        shown = properties.get(to_camel(name))
        if shown is not None and info.description:
            shown.setdefault("description", info.description)


SETTINGS_MODEL_CONFIG: Final = ConfigDict(**API_MODEL_CONFIG, json_schema_extra=_settings_meanings)


class ErrorDetail(ApiModel):
    message: str
    type: str
    param: str | None
    code: str | None


class ErrorBody(ApiModel):
    """Every error answer of the management API, in OpenAI's error shape."""

    error: ErrorDetail


class OriginalError(ApiModel):
    """An error of the original 429chain's routes (`/v1/admin/...`, `/v1/test/...`), in its
    shape."""

    error: str


class KeyLabel(ApiModel):
    label: str = Field(description="The key's last four characters (`…abcd`), or `key#N`.")


class ProviderView(ApiModel):
    """A provider as the proxy runs it; `keys` holds labels only."""

    id: str
    name: str
    type: ProviderType
    keys: list[KeyLabel]
    base_url: str | None = Field(description="null: the type's default base URL")
    timeout: int | None
    rate_limits: RateLimits | None
    headers: dict[str, str] = Field(
        description="Each value as its label (`…abcd`, `…` under 8 characters), never the value."
    )
    keys_share_limits: bool | None
    daily_reset_timezone: str | None


class ProviderList(ApiModel):
    providers: list[ProviderView]


class ChainView(ApiModel):
    name: str
    entries: list[ChainEntry] = Field(description="In chain order: the first is tried first.")
    is_default: bool = Field(description="Whether this is settings.defaultChain.")


class ChainList(ApiModel):
    chains: list[ChainView]


class SettingsView(ApiModel):
    """Every setting as the proxy runs it; the client and admin keys as labels."""

    model_config = SETTINGS_MODEL_CONFIG

    host: str
    port: int
    api_key_labels: list[str]
    admin_key_labels: list[str]
    default_chain: str
    log_level: LogLevel
    cooldown_default_ms: int
    max_cooldown_ms: int
    request_timeout_ms: int
    stream_idle_timeout_ms: int
    db_path: str
    database: str | None
    state_store: str
    record_usage: bool
    normalize_responses: bool
    mid_stream_failure_threshold: int
    mid_stream_cooldown_ms: int
    mid_stream_cooldown_max_ms: int
    queue_mode: bool
    queue_max_wait_ms: int
    queue_max_size: int
    max_body_bytes: int
    strict_models: bool
    failure_penalty_ms: int
    log_retention_days: int
    metrics_public: bool
    shutdown_grace_ms: int
    cors_origins: list[str]
    probe_concurrency: int
    probe_wait_ms: int
    client_timeout_ms: int
    max_response_bytes: int


SettingKind = Literal["text", "integer", "boolean", "choice", "list", "keys"]


class SettingField(ApiModel):
    """One setting: what it means (the config schema's own description), its kind of value
    and bounds, its default, and whether a change applies only at the next start."""

    name: str = Field(description="The setting's name in the file and in PATCH bodies.")
    description: str
    kind: SettingKind = Field(
        description="`keys`: write-only keys, shown as labels (`apiKeyLabels`, `adminKeyLabels`)."
    )
    required: bool
    default: int | bool | str | list[str] | None = Field(description="null when required.")
    minimum: int | None = None
    maximum: int | None = None
    choices: list[str] | None = None
    restart_required: bool = Field(description="A change is saved but applies at a restart.")
    variable: str | None = Field(
        None, description="The environment variable that can give this setting instead of the file."
    )
    set_by_environment: bool = Field(
        False,
        description="`variable` gives it now: the file's value does not apply, and a change to "
        "it is refused (422).",
    )


class SettingsFields(ApiModel):
    """Every setting with its meaning, in the file's order, and whether changes can be saved."""

    writable: bool = Field(description="Whether changes can be saved to the config file now.")
    read_only_reason: str | None = Field(
        description="Why not (no config file; a read-only file), and how to make it writable."
    )
    fields: list[SettingField]


class ConfigView(ApiModel):
    """The whole configuration as the proxy runs it (`${VAR}` expanded, keys as labels)."""

    version: int
    settings: SettingsView
    providers: list[ProviderView]
    chains: list[ChainView]


class OriginalConfig(ApiModel):
    """`GET /v1/admin/config` in the original 429chain's shape: providers (each `apiKey` as
    `***`) and chains, no settings."""

    model_config = ConfigDict(extra="allow")

    providers: list[dict[str, Any]]
    chains: list[dict[str, Any]]


class ProviderFields(ApiModel):
    """The config's provider fields but its `id`.

    `apiKey`/`apiKeys` may be left out when replacing: the provider keeps its keys."""

    name: str = ""
    type: ProviderType
    api_key: NonEmptyStr | None = None
    api_keys: list[NonEmptyStr] | None = None
    base_url: str | None = None
    timeout: Timeout | None = None
    rate_limits: RateLimits | None = None
    headers: dict[str, str] = Field(
        default_factory=dict,
        description="The whole mapping: a header left out is removed; a value sent as the label "
        "an answer showed keeps the header's value.",
    )
    keys_share_limits: StrictBool | None = None
    daily_reset_timezone: str | None = None
    keys: list[KeyLabel] | None = Field(default=None, description=IGNORED_LABELS)


class ProviderBody(ProviderFields):
    """A provider to create, or to put in place of one: the config's provider fields.

    `apiKey`/`apiKeys` may be left out when replacing: the provider keeps its keys."""

    id: NonEmptyStr


class ProviderUpdate(ProviderFields):
    """A provider to put in place of `{id}` (or to create as it): its `id` may be left out;
    when given, it must be the path's. Keys left out, or sent as the labels an answer showed,
    are kept."""

    id: NonEmptyStr | None = None


class ChainBody(ApiModel):
    """A chain's entries, in order, to put in place of its current ones (or to create it)."""

    entries: Annotated[list[ChainEntry], Field(min_length=1)]
    name: NonEmptyStr | None = Field(
        default=None, description="Optional; when given, it must be the chain's name."
    )
    is_default: bool | None = Field(
        default=None, description="Ignored: settings.defaultChain names the default chain."
    )


class NewChainBody(ChainBody):
    """A chain to create: its name and its entries."""

    name: NonEmptyStr


class SettingsPatch(ApiModel):
    """Settings to change: the fields given change, the others stay; `null` puts a setting back
    to its default. Keys are write-only: `apiKeys`/`adminKeys` replace the lists. The settings
    of `reconfigure.RESTART_REQUIRED` are written to the file but take effect at the next start
    (the answer's `restartRequired` names those a change touched)."""

    model_config = SETTINGS_MODEL_CONFIG

    host: str | None = None
    port: Port | None = None
    db_path: str | None = None
    database: str | None = None
    state_store: str | None = None
    record_usage: StrictBool | None = None
    max_body_bytes: PositiveInt | None = None
    api_keys: list[NonEmptyStr] | None = None
    admin_keys: list[NonEmptyStr] | None = None
    api_key_labels: list[str] | None = Field(default=None, description=IGNORED_LABELS)
    admin_key_labels: list[str] | None = Field(default=None, description=IGNORED_LABELS)
    default_chain: NonEmptyStr | None = None
    log_level: LogLevel | None = None
    cooldown_default_ms: NonNegativeInt | None = None
    max_cooldown_ms: Annotated[int, Field(ge=1000)] | None = None
    request_timeout_ms: Timeout | None = None
    stream_idle_timeout_ms: Timeout | None = None
    normalize_responses: StrictBool | None = None
    mid_stream_failure_threshold: PositiveInt | None = None
    mid_stream_cooldown_ms: NonNegativeInt | None = None
    mid_stream_cooldown_max_ms: NonNegativeInt | None = None
    queue_mode: StrictBool | None = None
    queue_max_wait_ms: NonNegativeInt | None = None
    queue_max_size: NonNegativeInt | None = None
    strict_models: StrictBool | None = None
    failure_penalty_ms: NonNegativeInt | None = None
    log_retention_days: PositiveInt | None = None
    metrics_public: StrictBool | None = None
    shutdown_grace_ms: NonNegativeInt | None = None
    cors_origins: list[str] | None = None
    probe_concurrency: PositiveInt | None = None
    probe_wait_ms: NonNegativeInt | None = None
    client_timeout_ms: Timeout | None = None
    max_response_bytes: PositiveInt | None = None


class Deleted(ApiModel):
    """What a delete removed: the provider's id or the chain's name."""

    deleted: str


class SettingsChange(SettingsView):
    """The settings after a change, and those of them it changed that take effect only at the
    next start."""

    restart_required: list[str] = Field(
        description="Field paths (`settings.port`) changed and saved that apply at a restart."
    )


class ConfigReload(ConfigView):
    """The configuration as the file holds it now, applied; the settings it changed that take
    effect only at the next start."""

    restart_required: list[str] = Field(
        description="Field paths (`settings.port`) changed and saved that apply at a restart."
    )


class OriginalChainBody(ApiModel):
    """`PUT /v1/admin/chains/{name}` in the original 429chain's shape: the entries, in order."""

    entries: Annotated[list[ChainEntry], Field(min_length=1)]


class OriginalProviderAnswer(ApiModel):
    """A provider as the original 429chain answers a write (`apiKey` as `***`)."""

    provider: dict[str, Any]


class OriginalChain(ApiModel):
    name: str
    entries: list[ChainEntry]


class OriginalChainAnswer(ApiModel):
    chain: OriginalChain
