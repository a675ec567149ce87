"""Why the proxy could not listen, in words that name the setting to change."""

from __future__ import annotations

import errno
import socket

import pytest

from chain429.server import listen_error


@pytest.mark.parametrize(
    ("exc", "says"),
    [
        (
            OSError(errno.EADDRINUSE, "address already in use"),
            "port 3429 on localhost is already in use (settings.port / --port)",
        ),
        (
            socket.gaierror(socket.EAI_NONAME, "Name or service not known"),
            "host 'localhost' cannot be resolved: Name or service not known "
            "(settings.host / --host)",
        ),
        (
            OSError(errno.EADDRNOTAVAIL, "cannot assign requested address"),
            "address localhost is not an address of this machine (settings.host / --host)",
        ),
        (
            OSError(errno.EACCES, "Permission denied"),
            "port 3429 on localhost needs privileges (as ports below 1024 do) "
            "(settings.port / --port)",
        ),
        (
            OSError(errno.EMFILE, "Too many open files"),
            "cannot listen on port 3429 on localhost: too many open files "
            "(settings.host / --host, settings.port / --port)",
        ),
    ],
    ids=["in-use", "unresolvable", "not-local", "privileged", "other"],
)
def test_a_listen_error_names_its_cause_and_setting(exc: OSError, says: str) -> None:
    assert str(listen_error(exc, "localhost", 3429)) == says
