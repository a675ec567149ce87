"""`settings.stateStore` naming a Redis Cluster (`redis+cluster://`): its nodes and credentials,
a clear refusal of a malformed one, and its password kept out of logs and answers."""

from __future__ import annotations

import pytest

from chain429.admin.config_views import settings_view
from chain429.config.cluster_url import ClusterUrl, parse_cluster_url
from chain429.errors import ConfigError
from chain429.redaction import Redactor
from tests.support.configs import build_config, entries

PROVIDER = {"id": "p", "type": "groq", "apiKey": "sk-provider-key-1234"}
URL = "rediss+cluster://app:cl%40ster@10.0.0.5:7000,10.0.0.6,[::1]:7002/0"


def _config(**settings: object):
    return build_config([PROVIDER], {"c": entries(("p", "m"))}, **settings)


def test_a_cluster_url_names_its_nodes_credentials_and_tls() -> None:
    assert parse_cluster_url(URL) == ClusterUrl(
        (("10.0.0.5", 7000), ("10.0.0.6", 6379), ("::1", 7002)), "app", "cl@ster", tls=True
    )
    assert parse_cluster_url("redis+cluster://h:1") == ClusterUrl(
        (("h", 1),), None, None, tls=False
    )


def test_the_settings_take_it() -> None:
    assert _config(stateStore=URL).settings.state_store == URL


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("redis+cluster://", "node 1 of the Redis Cluster URL is not host or host:port"),
        ("redis+cluster://h:1,,h:2", "node 2 of the Redis Cluster URL is not"),
        ("redis+cluster://h:notaport", "node 1 of the Redis Cluster URL is not"),
        ("redis+cluster://h:1,h:99999", "node 2 of the Redis Cluster URL is not"),
        ("redis+cluster://h:1/2", "only database 0: the URL takes no path but /0"),
        ("redis+cluster://h:1?timeout=3", "takes no '?' or '#' part"),
        ("redis+cluster://:pa/ss@h:1", "a password's `/`, `?`, `#` or `@` is percent-encoded"),
    ],
)
def test_a_malformed_cluster_url_is_refused_saying_what_is_wrong(url: str, said: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _config(stateStore=url)
    assert "settings.stateStore" in str(caught.value)
    assert said in str(caught.value)
    assert "redis+cluster://host:6379,host2:6379" in str(caught.value)
    assert "pa/ss" not in str(caught.value) and "notaport" not in str(caught.value)


def test_another_scheme_names_the_cluster_form_too() -> None:
    with pytest.raises(ConfigError) as caught:
        _config(stateStore="cluster://h:1")
    assert "redis+cluster://host:6379,host2:6379" in str(caught.value)


def test_its_password_is_redacted_and_masked() -> None:
    config = _config(stateStore=URL)
    redactor = Redactor(config.secrets())
    assert redactor.redact("url cl%40ster, cl@ster") == "url [redacted], [redacted]"
    shown = settings_view(config.settings).state_store
    assert shown == "rediss+cluster://app:***@10.0.0.5:7000,10.0.0.6,[::1]:7002/0"
