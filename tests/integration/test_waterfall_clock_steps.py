"""A wall-clock step (NTP correcting the clock by an hour, either way) neither frees a benched
entry nor benches one for an hour: limits run on the clock's steady timeline, and a reset a
provider states as a wall time (an HTTP date, an epoch reset) is converted once, when it
arrives. The fake clock's `step_wall` moves its wall clock alone, as a real step would."""

from __future__ import annotations

from collections.abc import Callable
from email.utils import formatdate

import pytest

from chain429.app import AppOptions
from tests.support.client import chat
from tests.support.clock import FakeClock
from tests.support.proxy import make_config
from tests.support.upstream import ok, reply
from tests.support.usage_db import logged_rows, query, usage_settings

START = 1_800_000_000.0
HOUR = 3600.0
BENCH_S = 30

#: The 429's headers, given the wall-clock time the provider sends it at.
SIGNALS: dict[str, Callable[[float], dict[str, str]]] = {
    "retry-after-seconds": lambda wall: {"retry-after": str(BENCH_S)},
    "retry-after-http-date": lambda wall: {"retry-after": formatdate(wall + BENCH_S, usegmt=True)},
    "epoch-reset": lambda wall: {
        "x-ratelimit-limit": "100",
        "x-ratelimit-remaining": "0",
        "x-ratelimit-reset": str(int(wall + BENCH_S)),
    },
}


async def skipped_for(http, server) -> int:
    """The proxy's own 429 while the chain's only entry is benched: its `Retry-After`."""
    answer = await chat(http, server)
    assert answer.status == 429, answer.body
    return int(answer.headers["Retry-After"])


@pytest.mark.parametrize("step", [HOUR, -HOUR], ids=["forward", "backward"])
@pytest.mark.parametrize("signal", list(SIGNALS))
async def test_a_wall_clock_step_neither_frees_nor_extends_a_cooldown(
    upstream_factory, proxy_factory, http, signal, step
):
    clock = FakeClock(START)
    clock.step_wall(step)  # before the 429: its wall time must be converted
    headers = SIGNALS[signal](clock.wall())
    up = await upstream_factory(reply(429, {"error": {"message": "slow down"}}, headers), ok())
    config = make_config([("a", up.base_url)], chain=[("a", "a-model")])
    server = await proxy_factory(config, AppOptions(clock=clock))

    assert await skipped_for(http, server) == BENCH_S  # the 429 itself, passed on
    clock.step_wall(-step)  # and back after it: what was converted stays put
    assert await skipped_for(http, server) == BENCH_S
    clock.step_wall(-step)
    clock.advance(BENCH_S - 0.5)
    assert await skipped_for(http, server) == 1
    assert up.calls == 1
    clock.advance(0.5)
    assert (await chat(http, server)).status == 200
    assert up.calls == 2


async def test_the_saved_state_is_on_the_wall_clock_for_the_next_process(
    upstream_factory, proxy_factory, http, tmp_path
):
    """A process whose wall clock was stepped saves wall times; the next one, started after
    the step, restores the cooldown's true remainder."""
    db = tmp_path / "u.db"
    up = await upstream_factory(reply(429, {"error": {"message": "quota"}}, {"retry-after": "600"}))
    config = make_config(
        [("a", up.base_url)], chain=[("a", "a-model")], settings=usage_settings(db)
    )
    first_clock = FakeClock(START)
    first = await proxy_factory(config, AppOptions(clock=first_clock))
    assert await skipped_for(http, first) == 600
    first_clock.step_wall(HOUR)
    await first.stop()
    (saved,) = query(db, "SELECT saved_at FROM limit_state")
    assert saved["saved_at"] == START + HOUR

    second = await proxy_factory(config, AppOptions(clock=FakeClock(START + HOUR + 60)))
    assert await skipped_for(http, second) == 540
    assert up.calls == 1


@pytest.mark.parametrize("step", [HOUR, -HOUR], ids=["forward", "backward"])
async def test_records_carry_the_wall_time_after_a_step(
    upstream_factory, proxy_factory, http, tmp_path, step
):
    """Records are read by people and by other replicas writing the same database: a request
    made after a wall-clock step carries the corrected wall time, not the steady timeline's
    (which is off by the step until a restart), and the statistics' default range, taken on
    the same clock, finds it."""
    db = tmp_path / "u.db"
    up = await upstream_factory(ok())
    config = make_config(
        [("a", up.base_url)], chain=[("a", "a-model")], settings=usage_settings(db)
    )
    clock = FakeClock(START)
    server = await proxy_factory(config, AppOptions(clock=clock))
    clock.step_wall(step)
    assert (await chat(http, server)).status == 200

    (row,) = await logged_rows(http, server.url, 1)
    assert row["timestamp"] == round((START + step) * 1000)
    await server.stop()
    (stored,) = query(db, "SELECT started_at FROM requests")
    assert stored["started_at"] == START + step
