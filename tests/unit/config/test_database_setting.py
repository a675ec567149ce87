"""`settings.database`: a PostgreSQL URL in place of the SQLite file, whose password never
leaves the process (redacted from logs, masked in the management API's answers)."""

from __future__ import annotations

import pytest

from chain429.admin.api_models import SettingsPatch
from chain429.admin.config_views import settings_view
from chain429.config.environment import environment_settings
from chain429.config.schema import is_database_url, shown_url
from chain429.errors import ConfigError
from chain429.redaction import Redactor
from tests.support.configs import build_config, entries

URL = "postgresql://chain429:s3cret%2Fpw@db.internal:5432/usage?sslmode=require"
PROVIDER = {"id": "p", "type": "groq", "apiKey": "sk-provider-key-1234"}


def _config(**settings: object):
    return build_config([PROVIDER], {"c": entries(("p", "m"))}, **settings)


@pytest.mark.parametrize(
    "url",
    [URL, "postgres://u@h/db", "postgresql+psycopg://u@h:5433/db", "POSTGRESQL://u@h/db"],
)
def test_postgresql_urls_are_taken(url: str) -> None:
    assert is_database_url(url)
    assert _config(database=url).settings.database == url


@pytest.mark.parametrize(
    "value", ["./data/429chain.db", "sqlite:///data/u.db", "mysql://u:pw@h/db", "postgresql:/x"]
)
def test_anything_else_is_refused_without_quoting_it(value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _config(database=value)
    assert "settings.database" in str(caught.value)
    assert "dbPath" in str(caught.value)
    assert value not in str(caught.value)


def test_absent_the_sqlite_file_at_db_path_is_the_database() -> None:
    settings = _config(dbPath="/data/u.db").settings
    assert settings.database is None and settings.db_path == "/data/u.db"


def test_the_environment_gives_it() -> None:
    assert environment_settings({"CHAIN429_DATABASE": URL}) == {"database": URL}


def test_its_password_is_a_secret_redacted_as_written_and_decoded() -> None:
    redactor = Redactor(_config(database=URL).secrets())
    assert redactor.redact("dsn s3cret%2Fpw and s3cret/pw") == "dsn [redacted] and [redacted]"


def test_answers_show_the_url_with_its_password_masked() -> None:
    shown = settings_view(_config(database=URL).settings).database
    assert shown == "postgresql://chain429:***@db.internal:5432/usage?sslmode=require"
    assert shown_url("postgresql://u@h/db") == "postgresql://u@h/db"


def test_the_settings_read_sent_back_is_a_patch_with_the_masked_url() -> None:
    shown = settings_view(_config(database=URL).settings).model_dump(mode="json", by_alias=True)
    assert SettingsPatch.model_validate(shown).database == shown["database"]


def test_a_redis_state_store_password_is_redacted_and_masked_the_same_way() -> None:
    config = _config(stateStore="redis://:r3dis%2Fpw@redis.internal:6379/0")
    redactor = Redactor(config.secrets())
    assert redactor.redact("url r3dis%2Fpw, r3dis/pw") == "url [redacted], [redacted]"
    shown = settings_view(config.settings).state_store
    assert shown == "redis://:***@redis.internal:6379/0"
    assert shown_url("memory") == "memory"


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("redis://:pa/ss-9f8e@redis.internal:6379/0", "the database of a Redis URL is a number"),
        ("redis://:pass@redis.internal:9f8e/0", "the port of a Redis URL is a number"),
        ("redis://:pass-9f8e@redis.internal:6379/0?ssl_cert_reqs=none", "takes no options"),
    ],
)
def test_a_malformed_state_store_url_is_refused_at_load_quoting_none_of_it(
    url: str, why: str
) -> None:
    """Refused when the config loads, not when the proxy starts and connects; and the message
    quotes no part of the URL, where an unencoded `/` can put part of a password."""
    with pytest.raises(ConfigError) as caught:
        _config(stateStore=url)
    message = str(caught.value)
    assert "settings.stateStore" in message
    assert why in message
    assert "9f8e" not in message
