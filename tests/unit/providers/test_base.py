from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from chain429.config.schema import ProviderConfig, ProviderType
from chain429.limits.metric import LimitReport, MetricKind, Scope, Source
from chain429.providers.base import ProviderAdapter, set_header
from chain429.providers.error_body import in_band_error, parse_error_body
from chain429.providers.generic_openai import GenericOpenAIAdapter
from chain429.providers.registry import adapter_for

NOW = 1_800_000_000.0
KEY = "sk-test-0123456789abcdef"


def _provider(type_: ProviderType = ProviderType.GROQ, **extra: Any) -> ProviderConfig:
    return ProviderConfig(id="p", type=type_, api_key=KEY, **extra)


@pytest.mark.parametrize("path", ["/chat/completions", "chat/completions"])
def test_url_joins_base_and_path(path: str) -> None:
    adapter = adapter_for(ProviderType.GROQ)
    assert adapter.url(_provider(), path) == "https://api.groq.com/openai/v1/chat/completions"
    custom = _provider(base_url="http://127.0.0.1:8080/v1/")
    assert adapter.url(custom, path) == "http://127.0.0.1:8080/v1/chat/completions"


def test_headers_auth_json_and_provider_extras_win() -> None:
    adapter = adapter_for(ProviderType.OPENAI)
    assert adapter.headers(_provider(), KEY) == {
        "Authorization": f"Bearer {KEY}",
        "Content-Type": "application/json",
    }
    provider = _provider(headers={"authorization": "Token x", "X-Org": "o"})
    assert adapter.headers(provider, KEY) == {
        "Content-Type": "application/json",
        "authorization": "Token x",
        "X-Org": "o",
    }


def test_set_header_replaces_any_case() -> None:
    headers = {"Content-Type": "a", "X": "1"}
    set_header(headers, "content-type", "b")
    assert headers == {"X": "1", "content-type": "b"}


def test_prepare_sets_the_model_and_keeps_everything_else() -> None:
    body: dict[str, Any] = {
        "model": "fast",
        "messages": [{"role": "user", "content": "hi"}],
        "stream": True,
        "frequency_penalty": 0.5,
        "x_unknown": {"kept": True},
    }
    before = copy.deepcopy(body)
    for provider_type in ProviderType:
        prepared = adapter_for(provider_type).prepare(body, "llama-3.1-8b-instant")
        assert prepared is not body
        assert prepared["model"] == "llama-3.1-8b-instant"
        assert prepared["messages"] is body["messages"]
        assert prepared["x_unknown"] is body["x_unknown"]
        assert body == before


GROQ_HEADERS = {
    "x-ratelimit-limit-requests": "14400",
    "x-ratelimit-remaining-requests": "14370",
    "x-ratelimit-reset-requests": "2m59.56s",
    "x-ratelimit-limit-tokens": "6000",
    "x-ratelimit-remaining-tokens": "5997",
    "x-ratelimit-reset-tokens": "7.66s",
}


def test_header_report_combines_dialect_generic_and_unparsed() -> None:
    headers = {
        **GROQ_HEADERS,
        "x-ratelimit-remaining-tokens": "plenty",
        "x-ratelimit-brand-new": "7",
        "ratelimit-remaining": "3",
        "retry-after": "12",
        "content-type": "application/json",
    }
    report = adapter_for(ProviderType.GROQ).header_report(headers, NOW)
    assert len(report.metrics) == 3
    assert report.retry_at == NOW + 12
    assert set(report.raw_unparsed) == {
        ("x-ratelimit-remaining-tokens", "plenty"),
        ("x-ratelimit-brand-new", "7"),
    }
    tokens = {m.kind: m for m in report.metrics}[MetricKind.TOKENS]
    assert (tokens.limit, tokens.remaining) == (6000, None)


def test_the_base_reads_only_what_every_server_may_send() -> None:
    report = ProviderAdapter().header_report({**GROQ_HEADERS, "retry-after": "30"}, NOW)
    assert report.metrics == ()
    assert report.retry_at == NOW + 30
    assert len(report.raw_unparsed) == len(GROQ_HEADERS)


def test_any_provider_reports_the_limit_type_it_is_told() -> None:
    report = adapter_for(ProviderType.OPENAI).header_report({"x-ratelimit-type": "Daily"}, NOW)
    assert report.reason == "Daily"


@pytest.mark.parametrize("provider_type", list(ProviderType))
def test_empty_headers_make_an_empty_report(provider_type: ProviderType) -> None:
    report = adapter_for(provider_type).header_report({}, NOW)
    assert report == LimitReport()
    assert report.is_empty


def test_exhausted_metrics() -> None:
    headers = {**GROQ_HEADERS, "x-ratelimit-remaining-tokens": "-20"}
    report = adapter_for(ProviderType.GROQ).header_report(headers, NOW)
    [exhausted] = report.exhausted()
    assert exhausted.kind is MetricKind.TOKENS
    assert exhausted.remaining == 0


def test_limit_report_combines_headers_and_body() -> None:
    adapter = adapter_for(ProviderType.GROQ)
    headers = {
        "x-ratelimit-limit-tokens": "6000",
        "x-ratelimit-remaining-tokens": "0",
        "x-ratelimit-reset-tokens": "7.66s",
        "retry-after": "8",
    }
    body = b'{"error": {"message": "tokens per day (TPD) ... Please try again in 12m41.376s."}}'
    report = adapter.limit_report(headers, parse_error_body(body, NOW), NOW)
    assert report.retry_at == pytest.approx(NOW + 761.376)  # the later of header and body
    assert report.reason == "per-day quota"
    assert len(report.metrics) == 1


def test_limit_report_without_body_is_the_header_report() -> None:
    adapter = adapter_for(ProviderType.GROQ)
    report = adapter.limit_report({"retry-after": "3"}, None, NOW)
    assert report.retry_at == NOW + 3
    assert adapter.limit_report({}, parse_error_body(b"", NOW), NOW).is_empty


def test_a_success_body_is_read_only_for_an_in_band_error() -> None:
    adapter = adapter_for(ProviderType.GROQ)
    ok = {"choices": [{"message": {"content": "try again in 5s"}}]}
    assert adapter.limit_report({}, in_band_error(ok, NOW), NOW).is_empty
    in_band = {"error": {"message": "Rate limited, retry after 5 seconds"}}
    assert adapter.limit_report({}, in_band_error(in_band, NOW), NOW).retry_at == NOW + 5


def test_embedded_headers_fill_in_missing_ones() -> None:
    adapter = adapter_for(ProviderType.OPENROUTER)
    body = orjson.dumps(
        {
            "error": {
                "message": "Rate limit exceeded",
                "code": 429,
                "metadata": {"headers": {"X-RateLimit-Limit": "20", "X-RateLimit-Remaining": "0"}},
            }
        }
    )
    [metric] = adapter.limit_report({}, parse_error_body(body, NOW), NOW).metrics
    assert (metric.source, metric.scope, metric.remaining) == (Source.BODY, Scope.ACCOUNT, 0)


def test_adapters_are_stateless_and_frozen() -> None:
    adapter = GenericOpenAIAdapter()
    assert adapter == GenericOpenAIAdapter()
    assert not hasattr(adapter, "__dict__")
    # frozen + slots: setting anything fails (Python 3.11 raises TypeError from the
    # dataclass's __setattr__, later versions FrozenInstanceError, an AttributeError)
    with pytest.raises((AttributeError, TypeError)):
        adapter.x = 1  # type: ignore[attr-defined]
    assert isinstance(adapter, ProviderAdapter)


KNOWN_NAMES = sorted(
    {
        *GROQ_HEADERS,
        "x-ratelimit-limit-requests-day",
        "x-ratelimit-remaining-tokens-minute",
        "x-ratelimit-reset-tokens-minute",
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-reset",
        "x-tokenlimit-limit",
        "x-ratelimit-type",
        "x-ratelimit-limit-req-minute",
        "ratelimit",
        "ratelimit-limit",
        "ratelimit-remaining",
        "ratelimit-reset",
        "ratelimit-policy",
        "retry-after",
        "retry-after-ms",
    }
)
HEADER_VALUES = st.one_of(
    st.text(max_size=40),
    st.from_regex(r"[0-9.eE+\-hmsµ;,=w\"]{0,25}", fullmatch=True),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
)
HEADERS = st.dictionaries(
    st.one_of(st.sampled_from(KNOWN_NAMES), st.text(max_size=30)), HEADER_VALUES, max_size=12
)


@given(st.sampled_from(list(ProviderType)), HEADERS, st.floats(min_value=0, max_value=4e9))
def test_no_dialect_ever_raises(
    provider_type: ProviderType, headers: dict[str, str], now: float
) -> None:
    report = adapter_for(provider_type).header_report(headers, now)
    for metric in report.metrics:
        assert metric.limit is None or metric.limit >= 0
        assert metric.remaining is None or metric.remaining >= 0
    for name, _value in report.raw_unparsed:
        assert name == name.lower()


HEADER_NAMES = st.sampled_from(
    ["retry-after", "x-ratelimit-limit", "x-ratelimit-reset-requests", "x-ratelimit-type"]
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(["error", "message", "choices", "delta", "content", "reasoning"]),
            children,
            max_size=4,
        )
    ),
    max_leaves=15,
)


@given(
    st.sampled_from(list(ProviderType)),
    st.dictionaries(HEADER_NAMES | st.text(max_size=20), st.text(max_size=30), max_size=6),
    st.none() | st.binary(max_size=200) | JSON_VALUES.map(orjson.dumps),
)
def test_limit_report_never_raises(
    provider_type: ProviderType, headers: dict[str, str], body: bytes | None
) -> None:
    error = parse_error_body(body, NOW) if body is not None else None
    adapter_for(provider_type).limit_report(headers, error, NOW)


@given(
    st.sampled_from(list(ProviderType)),
    st.dictionaries(st.sampled_from(["messages", "model", "logit_bias", "x"]), JSON_VALUES),
    st.sampled_from(["gemma-3-27b-it", "llama", "gemini-2.5-flash"]),
)
def test_prepare_never_mutates(
    provider_type: ProviderType, body: dict[str, Any], model: str
) -> None:
    before = copy.deepcopy(body)
    adapter_for(provider_type).prepare(body, model)
    assert body == before


@given(st.dictionaries(st.sampled_from(["choices", "id"]), JSON_VALUES))
def test_normalization_never_raises_or_mutates(obj: dict[str, Any]) -> None:
    before = copy.deepcopy(obj)
    adapter = adapter_for(ProviderType.GROQ)
    adapter.normalize_message(obj)
    adapter.normalize_chunk(obj)
    assert obj == before
