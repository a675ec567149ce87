"""Records written before outcomes were words read as words after the upgrade (migration 0005)."""

from __future__ import annotations

from chain429.outcome import Outcome
from chain429.usage.migrate import upgrade_to
from chain429.usage.schema import ATTEMPTS, REQUESTS
from tests.support.usage_db import database_engine
from tests.support.usage_records import open_store

OLD_WORDS = {
    "429": Outcome.RATE_LIMITED,
    "402": Outcome.PAYMENT_REQUIRED,
    "5xx": Outcome.SERVER_ERROR,
    "auth": Outcome.AUTH_FAILED,
    "connect": Outcome.CONNECT_ERROR,
    "timeout": Outcome.TIMEOUT,
}


def _request(request_id: str, error_class: str) -> dict[str, object]:
    return {
        "request_id": request_id,
        "started_at": 1.0,
        "endpoint": "/v1/chat/completions",
        "chain": "c",
        "requested_model": "c",
        "status": 429,
        "streamed": False,
        "attempt_count": 1,
        "latency_ms": 1.0,
        "client_closed": False,
        "error_class": error_class,
    }


def _attempt(request_id: str, outcome: str) -> dict[str, object]:
    return {
        "request_id": request_id,
        "position": 0,
        "provider_id": "p",
        "model": "m",
        "outcome": outcome,
        "latency_ms": 1.0,
        "reason": "",
    }


async def test_old_outcome_names_become_the_words_the_code_uses(usage_database: str) -> None:
    path = usage_database
    with database_engine(path) as engine, engine.begin() as connection:
        upgrade_to(connection, "0004")
        old = list(OLD_WORDS)
        connection.execute(REQUESTS.insert(), [_request(f"r{i}", w) for i, w in enumerate(old)])
        connection.execute(ATTEMPTS.insert(), [_attempt(f"r{i}", w) for i, w in enumerate(old)])
    async with open_store(path) as store:
        requests = await store.read(lambda c: c.execute(REQUESTS.select()).all())
        attempts = await store.read(lambda c: c.execute(ATTEMPTS.select()).all())
    expected = {f"r{i}": new.value for i, new in enumerate(OLD_WORDS.values())}
    assert {r.request_id: r.error_class for r in requests} == expected
    assert {a.request_id: a.outcome for a in attempts} == expected
