"""PostgreSQL's errors named as the store's problems, without a value from a row."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import errors

from chain429.usage.postgres import describe, engine_url, problem_of
from chain429.usage.problem import Problem


@pytest.mark.parametrize(
    ("sqlstate", "problem"),
    [
        ("25006", Problem.READ_ONLY),
        ("53100", Problem.FULL),
        ("55P03", Problem.LOCKED),
        ("40P01", Problem.LOCKED),
        ("57P01", Problem.UNAVAILABLE),
        ("08006", Problem.UNAVAILABLE),
        ("23505", Problem.ERROR),
        ("42P01", Problem.ERROR),
    ],
)
def test_sqlstates_name_the_problem(sqlstate: str, problem: Problem) -> None:
    assert problem_of(errors.lookup(sqlstate)("detail with a value 'sk-1234'")) is problem


def test_a_server_out_of_reach_is_unavailable_and_named_by_host_and_port() -> None:
    refused = psycopg.OperationalError(
        'connection failed: connection to server at "127.0.0.1", port 1 failed: Connection '
        "refused\n\tIs the server running on that host and accepting TCP/IP connections?"
    )
    assert problem_of(refused) is Problem.UNAVAILABLE
    assert describe(refused) == (
        'OperationalError: connection failed: connection to server at "127.0.0.1", port 1 '
        "failed: Connection refused"
    )


def test_an_error_with_a_sqlstate_is_named_by_its_condition_only() -> None:
    error = errors.lookup("23505")("duplicate key value (request_id)=(secret-value)")
    assert describe(error) == "UniqueViolation"


def test_urls_get_psycopg_3_as_their_driver() -> None:
    url = engine_url("postgres://u:p%2Fw@h:5/db?sslmode=require")
    assert (url.drivername, url.password, dict(url.query)) == (
        "postgresql+psycopg",
        "p/w",
        {"sslmode": "require"},
    )
