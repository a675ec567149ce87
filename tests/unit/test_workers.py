"""`serve --workers`: which stores allow several workers, and each worker's command line."""

from __future__ import annotations

import sys

import pytest

from chain429.config.schema import Settings
from chain429.workers import worker_argv, workers_problem
from tests.support.configs import build_config, entries


def settings(**fields: object) -> Settings:
    provider = {"id": "p", "type": "groq", "apiKey": "sk-provider-key-1234"}
    return build_config([provider], {"c": entries(("p", "m"))}, **fields).settings


def test_several_workers_on_the_memory_store_are_refused_with_the_reason() -> None:
    problem = workers_problem(3, settings())
    assert problem is not None
    assert problem.setting == "settings.stateStore"
    assert problem.cause.startswith("--workers 3 needs a shared limit state")
    assert "each worker would keep its own limits" in problem.cause
    assert "redis://" in problem.cause


@pytest.mark.parametrize(
    ("workers", "store"), [(1, "memory"), (2, "redis://127.0.0.1:6379/0"), (8, "rediss://r:6380")]
)
def test_one_worker_or_a_shared_store_is_fine(workers: int, store: str) -> None:
    assert workers_problem(workers, settings(stateStore=store)) is None


def test_a_worker_serves_the_users_options_on_the_reserved_port() -> None:
    argv = worker_argv(["--config", "c.yaml", "--log-format", "json"], 41234, 99)
    assert argv == [
        sys.executable,
        "-m",
        "chain429",
        "serve",
        "--config",
        "c.yaml",
        "--log-format",
        "json",
        "--port",
        "41234",
        "--worker-of",
        "99",
    ]
