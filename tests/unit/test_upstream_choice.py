"""`429chain serve --upstream-client` picks the HTTP client that calls the providers by name."""

from __future__ import annotations

import builtins
from typing import Any

import pytest

from chain429.errors import StartupError
from chain429.runner import upstream_factory
from chain429.upstream_http import AiohttpUpstream
from chain429.upstream_pyreqwest import PyreqwestUpstream


def test_each_name_gives_its_client() -> None:
    assert upstream_factory("aiohttp") == AiohttpUpstream.create
    assert upstream_factory("pyreqwest") == PyreqwestUpstream.create


def test_an_unknown_name_cannot_start_and_names_the_option() -> None:
    with pytest.raises(StartupError) as caught:
        upstream_factory("httpx")
    assert caught.value.setting == "--upstream-client"


def test_without_pyreqwest_installed_the_error_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_import = builtins.__import__

    def without_the_module(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "chain429.upstream_pyreqwest":
            raise ModuleNotFoundError(name="pyreqwest")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_the_module)
    with pytest.raises(StartupError, match=r"429chain\[pyreqwest\]"):
        upstream_factory("pyreqwest")


@pytest.mark.parametrize(
    ("raised", "expected", "message"),
    [
        (
            "ConnectError",
            "UpstreamConnectError",
            "cannot connect to upstream (Connection refused)",
        ),
        ("ReadTimeoutError", "UpstreamTimeoutError", "upstream did not answer in time"),
        ("ConnectTimeoutError", "UpstreamTimeoutError", "upstream did not answer in time"),
        ("ReadError", "UpstreamProtocolError", "upstream connection failed (ReadError)"),
        ("DecodeError", "UpstreamProtocolError", "upstream connection failed (DecodeError)"),
    ],
)
def test_pyreqwest_errors_become_upstream_errors(raised: str, expected: str, message: str) -> None:
    import pyreqwest.exceptions

    from chain429 import errors
    from chain429.upstream_pyreqwest import map_client_errors

    causes = [
        {"message": "error sending request"},
        {"message": "Connection refused (os error 111)"},
    ]
    error = getattr(pyreqwest.exceptions, raised)("failed", {"causes": causes})
    with pytest.raises(getattr(errors, expected)) as caught, map_client_errors():
        raise error
    assert str(caught.value) == message
