"""How fast the usage store writes records, on SQLite and on PostgreSQL (issue 17).

Records go through `UsageStore.insert` in batches of the batch writer's size (1,000), as the
proxy writes them: SQLite with chunked multi-row INSERTs, PostgreSQL with one COPY per table. Each
record has two attempts (one 429, then served). Reports records per second for each database,
the median of `--rounds` runs of `--records` records into a fresh table each time.

    .venv/bin/python bench/database_insert.py --postgresql postgresql://user@127.0.0.1:5432/db
    .venv/bin/python bench/database_insert.py   # starts a private PostgreSQL (Debian's binaries)

`--postgresql-insert values` writes PostgreSQL's batches as SQLAlchemy's multi-row INSERTs
instead of COPY, the alternative COPY was chosen over.
Exit 2 when PostgreSQL is neither given nor installed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Connection, delete, insert

from chain429.outcome import Outcome
from chain429.usage.records import AttemptRecord, RequestRecord
from chain429.usage.rows import ATTEMPT_COLUMNS, REQUEST_COLUMNS, Row
from chain429.usage.schema import ATTEMPTS, REQUESTS
from chain429.usage.store import UsageStore

BATCH = 1_000


def records(count: int, run: int) -> list[RequestRecord]:
    made = []
    for i in range(count):
        attempts = (
            AttemptRecord(0, "groq", "llama", "…abcd", Outcome.RATE_LIMITED, 429, 12.5, "429"),
            AttemptRecord(1, "cerebras", "llama", "…wxyz", Outcome.SERVED, 200, 240.0, ""),
        )
        made.append(
            RequestRecord(
                request_id=f"req-{run}-{i:08d}",
                started_at=1_800_000_000.0 + i / 100,
                endpoint="/v1/chat/completions",
                chain="fast",
                requested_model="fast",
                provider_id="cerebras",
                model="llama",
                key_label="…wxyz",
                status=200,
                streamed=i % 2 == 0,
                attempts=attempts,
                prompt_tokens=120,
                completion_tokens=48,
                total_tokens=168,
                latency_ms=252.5,
                ttft_ms=80.0 if i % 2 == 0 else None,
                error_class=None,
                client_closed=False,
            )
        )
    return made


class ValuesRows:
    """PostgreSQL's batches as multi-row INSERTs (SQLAlchemy's insertmanyvalues)."""

    refusals = ()

    def write(self, connection: Connection, requests: list[Row], attempts: list[Row]) -> None:
        for table, columns, rows in (
            (REQUESTS, REQUEST_COLUMNS, requests),
            (ATTEMPTS, ATTEMPT_COLUMNS, attempts),
        ):
            values = [dict(zip(columns, row, strict=True)) for row in rows]
            for row in values:
                if table is REQUESTS:
                    row["streamed"] = bool(row["streamed"])
                    row["client_closed"] = bool(row["client_closed"])
            connection.execute(insert(table), values)


async def measure(database: str, count: int, rounds: int, values: bool) -> float:
    store = UsageStore(database)
    await store.open()
    if values:
        store._row_writer = ValuesRows()  # the alternative under measurement, in COPY's place
    rates = []
    try:
        for run in range(rounds):
            batch = records(count, run)
            started = time.perf_counter()
            for start in range(0, count, BATCH):
                await store.insert(batch[start : start + BATCH])
            rates.append(count / (time.perf_counter() - started))
            await store.write(_empty)
    finally:
        await store.close()
    return statistics.median(rates)


def _empty(connection: Connection) -> None:
    connection.execute(delete(ATTEMPTS))
    connection.execute(delete(REQUESTS))


@contextlib.contextmanager
def postgresql(url: str | None) -> Iterator[str | None]:
    if url is not None:
        yield url
        return
    sys.path.insert(0, str(Path(__file__).parents[1]))
    from tests.support.postgres import find_bindir, running_postgres

    bindir = find_bindir()
    if bindir is None:
        yield None
        return
    with running_postgres(bindir) as server, server.database() as created:
        yield created


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgresql", help="a database URL (default: a private server)")
    parser.add_argument("--postgresql-insert", choices=("copy", "values"), default="copy")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        path = str(Path(directory) / "u.db")
        sqlite = asyncio.run(measure(path, args.records, args.rounds, False))
    print(f"sqlite      {sqlite:10,.0f} records/s")
    with postgresql(args.postgresql) as url:
        if url is None:
            print("PostgreSQL not found: give --postgresql URL or apt-get install postgresql")
            return 2
        values = args.postgresql_insert == "values"
        rate = asyncio.run(measure(url, args.records, args.rounds, values))
    print(f"postgresql  {rate:10,.0f} records/s ({args.postgresql_insert})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
