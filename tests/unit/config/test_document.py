"""Editing the config file as a document: each edit changes the lines it means and no other,
comments, key order, quoting and `${ENV}` references survive, keys are never replaced by their
labels nor references by their values, and the refusals name what is in the way."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from chain429.config.document import ConfigDocument, Conflict, NotFound
from chain429.config.example import example_config
from chain429.config.load import parse_config
from chain429.errors import ConfigError
from tests.support.configs import EXAMPLE_KEYS

EXAMPLE_CONFIG = example_config("adm-made-up-admin-key-0001")

ORIGINAL = Path(__file__).with_name("original_example.yaml")
MISTRAL_SECOND = "mk-second-key-from-env-bbbb"
ENV = {**EXAMPLE_KEYS, "MISTRAL_URL": "https://mistral.example/v1", "MISTRAL_KEY": MISTRAL_SECOND}

#: The config `429chain init` writes, with a provider of literal and referenced keys, nested
#: limits, single quotes and a second chain written in flow style, all commented.
CONFIG = EXAMPLE_CONFIG.replace(
    '    apiKey: "${OPENROUTER_API_KEY}"\n',
    '    apiKey: "${OPENROUTER_API_KEY}"\n'
    "\n"
    "  # paid fallback: two keys, limits we know\n"
    "  - id: mistral\n"
    "    type: mistral\n"
    "    baseUrl: '${MISTRAL_URL}'   # a mirror\n"
    "    apiKeys:\n"
    "      - 'mk-first-literal-key-aaaa'  # the team's\n"
    '      - "${MISTRAL_KEY}"\n'
    "    rateLimits:\n"
    "      requestsPerMinute: 60     # from their docs\n"
    "      tokensPerDay: 500000\n",
) + (
    "\n"
    "  # answers fast or not at all\n"
    "  - name: fast\n"
    "    entries:\n"
    "      - {provider: groq, model: llama-3.1-8b-instant}   # the quick one\n"
    "      - {provider: mistral, model: mistral-small}\n"
)


TIMEOUT_NOTE = "# ms; overrides settings.requestTimeoutMs for this provider"
COOLDOWN_NOTE = "# cooldown after a 429 that says nothing about its reset"
NORMALIZE_NOTE = "# move reasoning_content into content for clients that need it"


def document(text: str = CONFIG) -> ConfigDocument:
    return ConfigDocument.parse(text, "config.yaml", environ=ENV)


def changes(before: str, after: str) -> list[str]:
    """The lines removed (`- `) and added (`+ `), in file order."""
    diff = difflib.ndiff(before.splitlines(), after.splitlines())
    return [line for line in diff if line.startswith(("- ", "+ "))]


def edited(doc: ConfigDocument) -> str:
    """The document's text, checked to be a valid config."""
    text = doc.text()
    parse_config(text, ENV)
    return text


@pytest.mark.parametrize("text", [EXAMPLE_CONFIG, CONFIG, ORIGINAL.read_text("utf-8")])
def test_a_document_without_edits_is_the_file_byte_for_byte(text: str) -> None:
    assert document(text).text() == text


def test_the_file_keeps_its_own_indentation() -> None:
    text = "version: 1\nsettings:\n    apiKeys:\n    - k\n    defaultChain: c\n"
    doc = document(text)
    doc.update_settings({"port": 4000})
    assert doc.text() == text + "    port: 4000\n"


def test_bad_yaml_is_a_config_error_naming_the_line() -> None:
    with pytest.raises(ConfigError) as caught:
        document("version: 1\nsettings: [\n")
    assert caught.value.problems[0].startswith("config.yaml, line 3")


def test_a_file_that_is_not_a_mapping_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="the top level must be a mapping"):
        document("- 1\n")


def test_a_provider_and_a_chain_read_as_the_file_has_them() -> None:
    doc = document()
    assert doc.provider("mistral") == {
        "id": "mistral",
        "type": "mistral",
        "baseUrl": "${MISTRAL_URL}",
        "apiKeys": ["mk-first-literal-key-aaaa", "${MISTRAL_KEY}"],
        "rateLimits": {"requestsPerMinute": 60, "tokensPerDay": 500000},
    }
    assert doc.chain("fast") == {
        "name": "fast",
        "entries": [
            {"provider": "groq", "model": "llama-3.1-8b-instant"},
            {"provider": "mistral", "model": "mistral-small"},
        ],
    }
    assert doc.provider("nope") is None
    assert doc.chain("nope") is None


def test_a_new_provider_goes_after_the_last_one_before_the_comments_that_follow() -> None:
    doc = document()
    created = doc.put_provider({"id": "local", "type": "groq", "apiKey": "${X:-none}"})
    text = edited(doc)
    assert created is True
    assert changes(CONFIG, text) == [
        "+   - id: local",
        "+     type: groq",
        "+     apiKey: ${X:-none}",
        "+ ",
    ]
    assert text.index("id: local") < text.index("# - id: gemini")
    assert doc.wrote_secret is False


def test_replacing_a_provider_changes_only_the_fields_that_differ() -> None:
    doc = document()
    provider = doc.provider("groq")
    assert provider is not None
    created = doc.put_provider({**provider, "name": "Groq (free)", "timeout": 20000})
    assert created is False
    assert changes(CONFIG, edited(doc)) == [
        "-     name: Groq",
        "+     name: Groq (free)",
        f"-     timeout: 10000              {TIMEOUT_NOTE}",
        f"+     timeout: 20000              {TIMEOUT_NOTE}",
    ]


def test_a_field_left_out_is_removed_and_a_new_one_added_at_the_end() -> None:
    doc = document()
    doc.put_provider({"id": "groq", "type": "groq", "name": "Groq", "keysShareLimits": True})
    assert changes(CONFIG, edited(doc)) == [
        f"-     timeout: 10000              {TIMEOUT_NOTE}",
        "+     keysShareLimits: true",
    ]


def test_nested_limits_keep_the_comments_of_what_did_not_change() -> None:
    doc = document()
    provider = doc.provider("mistral")
    assert provider is not None
    doc.put_provider({**provider, "rateLimits": {"requestsPerMinute": 60, "tokensPerDay": 9}})
    assert changes(CONFIG, edited(doc)) == [
        "-       tokensPerDay: 500000",
        "+       tokensPerDay: 9",
    ]


def test_keys_left_out_are_kept() -> None:
    doc = document()
    doc.put_provider({"id": "mistral", "type": "mistral", "baseUrl": "${MISTRAL_URL}"})
    assert changes(CONFIG, edited(doc)) == [
        "-     rateLimits:",
        "-       requestsPerMinute: 60     # from their docs",
        "-       tokensPerDay: 500000",
    ]


def test_labels_written_back_keep_the_keys_they_name() -> None:
    doc = document()
    doc.put_provider({"id": "groq", "type": "groq", "name": "Groq", "apiKey": "…3456"})
    doc.put_provider(
        {"id": "mistral", "type": "mistral", "baseUrl": "${MISTRAL_URL}", "apiKeys": ["…bbbb"]}
    )
    assert changes(CONFIG, edited(doc)) == [
        f"-     timeout: 10000              {TIMEOUT_NOTE}",
        "-       - 'mk-first-literal-key-aaaa'  # the team's",
        "-     rateLimits:",
        "-       requestsPerMinute: 60     # from their docs",
        "-       tokensPerDay: 500000",
    ]
    assert doc.wrote_secret is False


def test_a_short_key_is_named_by_its_position() -> None:
    text = CONFIG.replace("'mk-first-literal-key-aaaa'", "short").replace(
        '"${MISTRAL_KEY}"', "tiny"
    )
    doc = document(text)
    doc.put_provider({"id": "mistral", "type": "mistral", "apiKeys": ["key#2", "key#1"]})
    assert doc.provider("mistral") == {
        "id": "mistral",
        "type": "mistral",
        "apiKeys": ["tiny", "short"],
    }


def test_a_key_written_as_the_value_of_a_reference_stays_the_reference() -> None:
    doc = document()
    doc.put_provider({"id": "groq", "type": "groq", "apiKeys": [MISTRAL_SECOND]})
    doc.put_provider({"id": "extra", "type": "groq", "apiKey": EXAMPLE_KEYS["GROQ_API_KEY"]})
    text = edited(doc)
    assert MISTRAL_SECOND not in text and EXAMPLE_KEYS["GROQ_API_KEY"] not in text
    groq, extra = doc.provider("groq"), doc.provider("extra")
    assert groq is not None and groq["apiKeys"] == ["${MISTRAL_KEY}"]
    assert extra is not None and extra["apiKey"] == "${GROQ_API_KEY}"
    assert doc.wrote_secret is False


def test_a_new_literal_key_replaces_the_old_one_and_is_noted() -> None:
    doc = document()
    doc.put_provider({"id": "groq", "type": "groq", "name": "Groq", "apiKey": "gsk_brand_new_1"})
    assert set(changes(CONFIG, edited(doc))[:2]) == {
        '-     apiKey: "${GROQ_API_KEY}"',
        '+     apiKey: "gsk_brand_new_1"',
    }
    assert doc.wrote_secret is True


def test_a_value_equal_to_its_reference_keeps_the_reference() -> None:
    doc = document()
    provider = doc.provider("mistral")
    assert provider is not None
    doc.put_provider({**provider, "baseUrl": ENV["MISTRAL_URL"]})
    doc.update_settings({"apiKeys": [EXAMPLE_KEYS["CHAIN429_API_KEY"]]})
    assert edited(doc) == CONFIG
    assert doc.wrote_secret is False


def test_a_number_or_boolean_from_a_reference_keeps_the_reference() -> None:
    text = CONFIG.replace("  port: 3429\n", '  port: "${PORT}"\n').replace(
        "normalizeResponses: false", "normalizeResponses: ${NORMALIZE}"
    )
    doc = ConfigDocument.parse(text, environ={**ENV, "PORT": "3429", "NORMALIZE": "true"})
    doc.update_settings({"port": 3429, "normalizeResponses": True})
    assert doc.text() == text
    doc.update_settings({"port": 3430})
    assert changes(text, doc.text()) == ['-   port: "${PORT}"', "+   port: 3430"]


def test_an_id_field_is_required() -> None:
    with pytest.raises(ConfigError, match="id: required"):
        document().put_provider({"type": "groq", "apiKey": "k"})


def test_deleting_a_provider_removes_its_lines_and_keeps_the_comments_after_it() -> None:
    doc = document()
    doc.put_chain("fast", [{"provider": "groq", "model": "llama-3.1-8b-instant"}])
    doc.delete_provider("mistral")
    text = edited(doc)
    assert "id: mistral" not in text
    assert "# - id: gemini" in text and text.index("id: openrouter") < text.index("# - id: gemini")
    assert changes(CONFIG, text)[:12] == [
        "-   # paid fallback: two keys, limits we know",
        "-   - id: mistral",
        "-     type: mistral",
        "-     baseUrl: '${MISTRAL_URL}'   # a mirror",
        "-     apiKeys:",
        "-       - 'mk-first-literal-key-aaaa'  # the team's",
        '-       - "${MISTRAL_KEY}"',
        "-     rateLimits:",
        "-       requestsPerMinute: 60     # from their docs",
        "-       tokensPerDay: 500000",
        "- ",
        "-       - {provider: mistral, model: mistral-small}",
    ]


def test_deleting_a_provider_in_use_names_the_chains() -> None:
    doc = document()
    with pytest.raises(Conflict, match="provider 'groq' is used by chains: default, fast"):
        doc.delete_provider("groq")
    assert doc.text() == CONFIG


def test_deleting_an_unknown_provider_or_chain_is_not_found() -> None:
    doc = document()
    with pytest.raises(NotFound, match="no provider with id 'nope'"):
        doc.delete_provider("nope")
    with pytest.raises(NotFound, match="no chain named 'nope'"):
        doc.delete_chain("nope")


QUICK = "      - {provider: groq, model: llama-3.1-8b-instant}   # the quick one\n"
SMALL = "      - {provider: mistral, model: mistral-small}\n"


def test_reordering_a_chain_moves_its_lines_with_their_comments() -> None:
    doc = document()
    created = doc.put_chain(
        "fast",
        [
            {"provider": "mistral", "model": "mistral-small"},
            {"provider": "groq", "model": "llama-3.1-8b-instant"},
        ],
    )
    assert created is False
    assert edited(doc) == CONFIG.replace(QUICK + SMALL, SMALL + QUICK)


def test_a_changed_entry_keeps_its_comment_and_a_new_one_its_siblings_style() -> None:
    doc = document()
    doc.put_chain(
        "fast",
        [
            {"provider": "groq", "model": "llama-3.3-70b-versatile"},
            {"provider": "mistral", "model": "mistral-small"},
            {"provider": "openrouter", "model": "x:free"},
        ],
    )
    assert changes(CONFIG, edited(doc)) == [
        "-       - {provider: groq, model: llama-3.1-8b-instant}   # the quick one",
        "+       - {provider: groq, model: llama-3.3-70b-versatile} # the quick one",
        "+       - {provider: openrouter, model: x:free}",
    ]


def test_a_new_chain_goes_after_the_last_one() -> None:
    doc = document()
    created = doc.put_chain("solo", [{"provider": "cerebras", "model": "llama3.1-8b"}])
    assert created is True
    assert changes(CONFIG, edited(doc)) == [
        "+ ",
        "+   - name: solo",
        "+     entries:",
        "+       - provider: cerebras",
        "+         model: llama3.1-8b",
    ]


def test_deleting_a_chain_removes_its_lines_and_the_comment_above_it() -> None:
    doc = document()
    doc.delete_chain("fast")
    fast = CONFIG[CONFIG.index("\n  # answers fast") :]
    assert edited(doc) == CONFIG.removesuffix(fast)


def test_the_default_chain_cannot_be_deleted() -> None:
    doc = document()
    with pytest.raises(Conflict, match="chain 'default' is the default chain"):
        doc.delete_chain("default")


def test_settings_change_in_place_and_keep_their_comments() -> None:
    doc = document()
    doc.update_settings({"logLevel": "debug", "queueMode": True})
    assert changes(CONFIG, edited(doc)) == [
        "-   logLevel: info                # trace | debug | info | warn | error | fatal",
        "+   logLevel: debug               # trace | debug | info | warn | error | fatal",
        "+   queueMode: true",
    ]


def test_a_setting_set_to_none_goes_back_to_its_default_and_the_lines_below_stay() -> None:
    doc = document()
    doc.update_settings({"normalizeResponses": None, "port": None, "absent": None})
    assert changes(CONFIG, edited(doc)) == [
        "-   port: 3429",
        f"-   normalizeResponses: false     {NORMALIZE_NOTE}",
    ]


def test_client_keys_follow_the_key_rules() -> None:
    doc = document()
    doc.update_settings({"apiKeys": ["…1234"]})
    assert doc.text() == CONFIG and doc.wrote_secret is False
    doc.update_settings({"apiKeys": ["…1234", "client-key-new-5678"]})
    assert changes(CONFIG, edited(doc)) == ['+     - "client-key-new-5678"']
    assert doc.wrote_secret is True


def test_a_round_of_edits_changes_only_the_lines_it_means() -> None:
    doc = document()
    doc.put_provider({"id": "nim", "type": "nvidia-nim", "apiKey": "${NIM_KEY:-none}"})
    groq = doc.provider("groq")
    assert groq is not None
    doc.put_provider({**groq, "apiKey": "…3456", "timeout": 12000})
    doc.put_chain(
        "default",
        [
            {"provider": "openrouter", "model": "meta-llama/llama-3.3-70b-instruct:free"},
            {"provider": "groq", "model": "llama-3.1-8b-instant"},
            {"provider": "nim", "model": "meta/llama-3.1-8b-instruct"},
        ],
    )
    doc.delete_provider("cerebras")
    doc.update_settings({"cooldownDefaultMs": 30000, "queueMode": True})
    text = edited(doc)
    assert changes(CONFIG, text) == [
        f"-   cooldownDefaultMs: 60000      {COOLDOWN_NOTE}",
        f"+   cooldownDefaultMs: 30000      {COOLDOWN_NOTE}",
        "+   queueMode: true",
        f"-     timeout: 10000              {TIMEOUT_NOTE}",
        f"+     timeout: 12000              {TIMEOUT_NOTE}",
        "- ",
        "-   - id: cerebras",
        "-     name: Cerebras",
        "-     type: cerebras",
        '-     apiKey: "${CEREBRAS_API_KEY}"',
        "+   - id: nim",
        "+     type: nvidia-nim",
        "+     apiKey: ${NIM_KEY:-none}",
        "+ ",
        "+       - provider: openrouter",
        '+         model: "meta-llama/llama-3.3-70b-instruct:free"',
        "-       - provider: cerebras",
        "-         model: llama3.1-8b",
        "-       - provider: openrouter",
        "+       - provider: nim",
        '-         model: "meta-llama/llama-3.3-70b-instruct:free"',
        "+         model: meta/llama-3.1-8b-instruct",
    ]
    assert doc.wrote_secret is False


def test_edits_create_the_sections_a_file_lacks() -> None:
    doc = document("version: 1\n")
    doc.update_settings({"apiKeys": ["${CHAIN429_API_KEY}"], "defaultChain": "c"})
    doc.put_provider({"id": "g", "type": "groq", "apiKey": "${GROQ_API_KEY}"})
    doc.put_chain("c", [{"provider": "g", "model": "m"}])
    assert edited(doc) == (
        "version: 1\n"
        "settings:\n"
        "  apiKeys:\n"
        "    - ${CHAIN429_API_KEY}\n"
        "  defaultChain: c\n"
        "providers:\n"
        "  - id: g\n"
        "    type: groq\n"
        "    apiKey: ${GROQ_API_KEY}\n"
        "chains:\n"
        "  - name: c\n"
        "    entries:\n"
        "      - provider: g\n"
        "        model: m\n"
    )
    assert doc.wrote_secret is False


def test_a_section_of_the_wrong_shape_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="providers: must be a list"):
        document("version: 1\nproviders: 3\n").provider("g")
    with pytest.raises(ConfigError, match="settings: must be a mapping"):
        document("version: 1\nsettings: [1]\n").update_settings({"port": 1})


def test_a_reference_that_cannot_be_expanded_is_kept_as_written() -> None:
    text = CONFIG.replace('apiKey: "${GROQ_API_KEY}"', 'apiKey: "${UNSET_KEY}"')
    doc = document(text)
    doc.put_provider({"id": "groq", "type": "groq", "name": "Groq", "timeout": 10000})
    assert doc.text() == text


def test_a_field_that_is_none_is_not_written_at_any_depth() -> None:
    doc = document()
    entry = {"provider": "cerebras", "model": "m", "rateLimits": {"requestsPerDay": 5, "x": None}}
    doc.put_chain("solo", [entry])
    doc.put_provider({"id": "groq", "type": "groq", "name": None, "rateLimits": None})
    solo, groq = doc.chain("solo"), doc.provider("groq")
    assert solo is not None and solo["entries"][0]["rateLimits"] == {"requestsPerDay": 5}
    assert groq == {"id": "groq", "type": "groq", "apiKey": "${GROQ_API_KEY}"}


@pytest.mark.parametrize(("field", "value"), [("apiKey", "…3456"), ("apiKeys", ["x", "key#2"])])
def test_a_label_that_names_no_key_is_refused(field: str, value: object) -> None:
    doc = document()
    with pytest.raises(ConfigError, match="is the label of a key, not a key"):
        doc.put_provider({"id": "new", "type": "groq", field: value})
    with pytest.raises(ConfigError, match=r"settings.apiKeys\[1\]: 'key#9' is the label"):
        doc.update_settings({"apiKeys": ["…1234", "key#9"]})
    assert doc.text() == CONFIG


# Header values may be keys (Azure's `api-key`, a custom auth header): answers show them as
# labels, and a label written back keeps the value it names, as for keys.

AZURE_KEY = "azure-header-from-env-cccc"
HEADER_ENV = {**ENV, "AZURE_KEY": AZURE_KEY}
HEADERS_CONFIG = CONFIG.replace(
    "    rateLimits:\n      requestsPerMinute: 60",
    "    headers:\n"
    "      api-key: '${AZURE_KEY}'   # from the vault\n"
    "      X-Custom-Auth: literal-header-secret-dddd\n"
    "      X-Title: demo\n"
    "    rateLimits:\n"
    "      requestsPerMinute: 60",
)


def with_headers(headers: dict[str, str]) -> ConfigDocument:
    """The document with `headers` put as mistral's, every other field as the file has it."""
    doc = ConfigDocument.parse(HEADERS_CONFIG, "config.yaml", environ=HEADER_ENV)
    provider = doc.provider("mistral")
    assert provider is not None
    doc.put_provider({**provider, "headers": headers})
    parse_config(doc.text(), HEADER_ENV)
    return doc


@pytest.mark.parametrize(
    "headers",
    [
        {"api-key": "…cccc", "X-Custom-Auth": "…dddd", "X-Title": "demo"},
        {"api-key": AZURE_KEY, "X-Custom-Auth": "literal-header-secret-dddd", "X-Title": "demo"},
    ],
    ids=["labels", "values"],
)
def test_header_values_written_back_as_labels_or_values_keep_the_file_as_it_is(
    headers: dict[str, str],
) -> None:
    doc = with_headers(headers)
    assert doc.text() == HEADERS_CONFIG
    assert doc.wrote_secret is False


def test_a_new_header_value_replaces_the_old_one_and_a_header_left_out_goes() -> None:
    doc = with_headers({"api-key": "…cccc", "X-Custom-Auth": "brand-new-header-secret"})
    assert changes(HEADERS_CONFIG, doc.text()) == [
        "-       X-Custom-Auth: literal-header-secret-dddd",
        "+       X-Custom-Auth: brand-new-header-secret",
        "-       X-Title: demo",
    ]
    assert doc.wrote_secret is True


def test_a_header_value_written_as_a_reference_stays_one_and_is_no_secret_written() -> None:
    doc = with_headers({"api-key": "${MISTRAL_KEY}", "X-Custom-Auth": "…dddd", "X-Title": "demo"})
    mistral = doc.provider("mistral")
    assert mistral is not None and mistral["headers"]["api-key"] == "${MISTRAL_KEY}"
    assert doc.wrote_secret is False


def test_a_header_label_keeps_the_value_of_the_header_named_in_any_case() -> None:
    doc = with_headers({"API-KEY": "…cccc", "x-title": "demo"})
    mistral = doc.provider("mistral")
    assert mistral is not None
    assert mistral["headers"] == {"API-KEY": "${AZURE_KEY}", "x-title": "demo"}


@pytest.mark.parametrize("label", ["…abcd", "…"])
def test_a_header_label_that_names_no_value_of_that_header_is_refused(label: str) -> None:
    doc = ConfigDocument.parse(HEADERS_CONFIG, "config.yaml", environ=HEADER_ENV)
    refused = rf"headers.X-New-Key: '{label}' is the label of a header value, not a header value"
    with pytest.raises(ConfigError, match=refused):
        doc.put_provider({"id": "mistral", "type": "mistral", "headers": {"X-New-Key": label}})
    with pytest.raises(ConfigError, match="headers.api-key: '…cccc' is the label"):
        doc.put_provider({"id": "new", "type": "groq", "headers": {"api-key": "…cccc"}})
    assert doc.text() == HEADERS_CONFIG


def test_a_header_that_carries_no_credential_is_a_plain_setting() -> None:
    # `HTTP-Referer: https://...` is no secret: its value is written as given, and a value that
    # looks like a label is just a value.
    doc = with_headers(
        {
            "api-key": "…cccc",
            "X-Custom-Auth": "…dddd",
            "X-Title": "…x",
            "HTTP-Referer": "https://a.b",
        }
    )
    mistral = doc.provider("mistral")
    assert mistral is not None
    assert mistral["headers"]["X-Title"] == "…x"
    assert mistral["headers"]["HTTP-Referer"] == "https://a.b"
    assert doc.wrote_secret is False
