"""The start-up banner and its JSON twin say where the management API is and whether it writes."""

from __future__ import annotations

from dataclasses import dataclass

from chain429.runner import WRITES_OFF, listening_fields, proxy_banner
from tests.support.proxy import make_config


@dataclass
class Listening:
    url: str = "http://127.0.0.1:3429"


def test_without_admin_keys_the_banner_says_writes_are_off_and_why() -> None:
    config = make_config([("a", "http://127.0.0.1:9/v1")])
    banner = proxy_banner(config, Listening())  # only .url is read
    assert (
        "management API:  http://127.0.0.1:3429/api (docs: http://127.0.0.1:3429/api/docs)"
        in banner
    )
    assert banner.endswith(WRITES_OFF)
    assert "settings.adminKeys" in WRITES_OFF and "429chain init" in WRITES_OFF
    fields = listening_fields(config, Listening())
    assert fields["management_writes"] is False
    assert fields["management_writes_off"] == WRITES_OFF


def test_with_admin_keys_the_banner_shows_no_warning_and_no_key() -> None:
    config = make_config([("a", "http://127.0.0.1:9/v1")], settings={"adminKeys": ["adm-k-0001"]})
    banner = proxy_banner(config, Listening())
    assert WRITES_OFF not in banner and "adm-k-0001" not in banner
    fields = listening_fields(config, Listening())
    assert fields["management_writes"] is True and "management_writes_off" not in fields
    assert fields["management_api"] == "http://127.0.0.1:3429/api"


def test_the_banner_and_its_json_twin_give_the_dashboard_url() -> None:
    config = make_config([("a", "http://127.0.0.1:9/v1")])
    assert "  dashboard:       http://127.0.0.1:3429/\n" in proxy_banner(config, Listening())
    assert listening_fields(config, Listening())["dashboard"] == "http://127.0.0.1:3429/"
