"""A saved limit state that cannot be used never stops a start: whether the last save failed or
what was saved is corrupt, the next proxy starts cold (an entry that was cooling down is tried
again), serves, and the log names the problem."""

from __future__ import annotations

import sqlite3

import pytest
from structlog.testing import capture_logs

from chain429.app import AppOptions
from tests.support.client import chat
from tests.support.clock import FakeClock
from tests.support.proxy import make_config
from tests.support.upstream import ok, reply
from tests.support.usage_db import READ_ONLY, WriterPragmas, query, usage_settings

T0 = 1_800_000_000.0
COLD = "limit state not restored: starting cold"


async def learn_a_cooldown(upstream_factory, proxy_factory, http, tmp_path):
    """A proxy that learned `a` is rate limited for an hour, stopped (its state saved)."""
    a = await upstream_factory(reply(429, {"error": {"message": "quota"}}, {"retry-after": "3600"}))
    b = await upstream_factory(ok())
    db = tmp_path / "u.db"
    config = make_config([("a", a.base_url), ("b", b.base_url)], settings=usage_settings(db))
    first = await proxy_factory(config, AppOptions(clock=FakeClock(T0)))
    assert (await chat(http, first)).status == 200
    return a, db, config, first


async def served_cold(proxy_factory, http, a, config) -> list[dict]:
    """Start a proxy on the same database; it serves, and `a` is tried again."""
    with capture_logs() as logs:
        second = await proxy_factory(config, AppOptions(clock=FakeClock(T0 + 60)))
        answer = await chat(http, second)
    assert answer.status == 200 and answer.headers["X-429chain-Provider"] == "b/b-model"
    assert a.calls == 2, "a cold start tries the entry that was cooling down"
    return logs


@pytest.mark.parametrize(
    ("corruption", "named"),
    [
        (
            """UPDATE limit_state SET data = '{"version": 1, "entries": [{"prov'""",
            "saved limit state is not JSON: ",
        ),
        ("""UPDATE limit_state SET data = '{"version": 99}'""", "snapshot version 99"),
        ("UPDATE limit_state SET data = '[1, 2]'", "not a limit snapshot (a JSON list)"),
        ("UPDATE limit_state SET data = CAST(x'80ff' AS TEXT)", "usage database read failed"),
        ("DROP TABLE limit_state", "no such table: limit_state"),
    ],
    ids=["truncated", "future-version", "not-a-snapshot", "not-utf8", "no-table"],
)
async def test_a_corrupt_saved_state_is_a_cold_start_that_says_why(
    upstream_factory, proxy_factory, http, tmp_path, corruption, named
):
    a, db, config, first = await learn_a_cooldown(upstream_factory, proxy_factory, http, tmp_path)
    await first.stop()
    with sqlite3.connect(db) as connection:
        connection.execute(corruption)
    logs = await served_cold(proxy_factory, http, a, config)
    (cold,) = [line for line in logs if line["event"] == COLD]
    assert named in cold["error"] and cold["log_level"] == "warning"


async def test_a_failed_save_is_a_cold_start_next_time(
    upstream_factory, proxy_factory, http, tmp_path
):
    with WriterPragmas() as pragmas, capture_logs() as logs:
        a, db, config, first = await learn_a_cooldown(
            upstream_factory, proxy_factory, http, tmp_path
        )
        pragmas.set(READ_ONLY)
        await first.stop()
    assert not [line for line in logs if "starting cold" in line["event"]], (
        "a database this start created has nothing to restore, and says nothing"
    )
    (failed,) = [line for line in logs if line["event"] == "limit state not saved"]
    assert "readonly database" in failed["error"]
    assert query(db, "SELECT count(*) AS n FROM limit_state") == [{"n": 0}]

    logs = await served_cold(proxy_factory, http, a, config)
    assert [line["event"] for line in logs if "starting cold" in line["event"]] == [
        "no saved limit state: starting cold"
    ]
