from __future__ import annotations

from sqlalchemy import Connection, func, select

from chain429.usage.retention import SECONDS_PER_DAY, RetentionPruner
from chain429.usage.schema import ATTEMPTS, REQUESTS
from chain429.usage.store import UsageStore
from tests.support.clock import FakeClock
from tests.support.polling import eventually
from tests.support.usage_records import T0, open_store, served

DAY = SECONDS_PER_DAY


async def _counts(store: UsageStore) -> tuple[int, int]:
    def count(connection: Connection) -> tuple[int, int]:
        requests = connection.execute(select(func.count()).select_from(REQUESTS)).scalar_one()
        attempts = connection.execute(select(func.count()).select_from(ATTEMPTS)).scalar_one()
        return requests, attempts

    return await store.read(count)


async def _emptied(store: UsageStore) -> bool:
    return await _counts(store) == (0, 0)


async def test_pruning_deletes_only_what_is_older_than_the_retention(usage_database: str) -> None:
    clock = FakeClock(T0)
    async with open_store(usage_database) as store:
        old = [served(f"old{i}", at=T0 + i, fallen_from=("cerebras",)) for i in range(23)]
        recent = [served(f"new{i}", at=T0 + 5 * DAY + i) for i in range(4)]
        await store.insert(old + recent)
        pruner = RetentionPruner(store, clock, days=3, batch_size=5)

        assert await pruner.prune() == 0
        clock.advance(3 * DAY + 10.5)
        assert await pruner.prune() == 11
        assert await _counts(store) == (12 + 4, 2 * 12 + 4)

        clock.advance(30 * DAY)
        assert await pruner.prune() == 16
        assert await _counts(store) == (0, 0)


async def test_retention_days_can_change_live(usage_database: str) -> None:
    clock = FakeClock(T0 + 10 * DAY)
    async with open_store(usage_database) as store:
        await store.insert([served("a", at=T0), served("b", at=T0 + 8 * DAY)])
        pruner = RetentionPruner(store, clock, days=30)
        assert await pruner.prune() == 0
        pruner.days = 5
        assert await pruner.prune() == 1
        assert await _counts(store) == (1, 1)


async def test_started_pruner_prunes_on_its_schedule(usage_database: str) -> None:
    clock = FakeClock(T0 + 100 * DAY)
    async with open_store(usage_database) as store:
        await store.insert([served("a", at=T0)])
        pruner = RetentionPruner(store, clock, days=30, interval=0.01)
        await pruner.start()
        await eventually(lambda: _emptied(store), what="the first prune")
        await store.insert([served("b", at=T0)])
        await eventually(lambda: _emptied(store), what="a later prune")
        await pruner.close()
