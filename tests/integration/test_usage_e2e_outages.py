"""End to end, recording on, with the usage database failing under the running proxy (made
read-only, full, or locked by another writer): clients using the openai SDK are served as
usual, `/metrics` counts the records dropped with the reason, the log says why once, and once the
database comes back the next request's record is stored and the log says recording resumed."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from structlog.testing import capture_logs

from tests.support.client import MESSAGES
from tests.support.polling import eventually
from tests.support.proxy import CLIENT_KEY, make_config
from tests.support.upstream import ok
from tests.support.usage_db import (
    FULL,
    READ_ONLY,
    ROOMY,
    WRITABLE,
    WriterPragmas,
    stored_request_ids,
    usage_settings,
    wait_until_stored,
    write_lock_held,
)

FAILING = "usage database failing: records are dropped until it comes back"
RESUMED = "usage database writable again: recording resumed"
SHORT_BUSY = "PRAGMA busy_timeout=50"


async def dropped(http: aiohttp.ClientSession, url: str) -> dict[str, float]:
    headers = {"Authorization": f"Bearer {CLIENT_KEY}"}
    async with http.get(f"{url}/metrics", headers=headers) as response:
        text = await response.text()
    (family,) = [
        f
        for f in text_string_to_metric_families(text)
        if f.name == "chain429_usage_records_dropped"
    ]
    return {s.labels["reason"]: s.value for s in family.samples if s.name.endswith("_total")}


@contextlib.contextmanager
def failing(kind: str, pragmas: WriterPragmas, db: Path) -> Iterator[None]:
    """The database fails in the way named `kind` until the block ends."""
    if kind == "locked":
        with write_lock_held(db):
            yield
        return
    on, off = {"read_only": (READ_ONLY, WRITABLE), "full": (FULL, ROOMY)}[kind]
    pragmas.set(on)
    yield
    pragmas.set(off)


ROUND = 30
ROUNDS = 10


@pytest.mark.parametrize("kind", ["read_only", "full", "locked"])
async def test_the_proxy_serves_through_a_failing_database_and_recording_resumes(
    upstream_factory, proxy_factory, client_factory, http, tmp_path, kind
):
    upstream = await upstream_factory(ok("hello"))
    db = tmp_path / "u.db"
    server = await proxy_factory(
        make_config([("a", upstream.base_url)], settings=usage_settings(db))
    )
    client = client_factory(server)

    async def ask() -> str:
        raw = await client.chat.completions.with_raw_response.create(
            model="default", messages=MESSAGES
        )
        assert raw.parse().choices[0].message.content == "hello"
        return raw.headers["x-request-id"]

    async def settled(ids: set[str], before: float) -> bool:
        """Each request of a round is stored or counted as dropped."""
        lost = (await dropped(http, server.url))[kind] - before
        return len(ids & stored_request_ids(db)) + lost == len(ids)

    with WriterPragmas() as pragmas, capture_logs() as logs:
        pragmas.set(SHORT_BUSY)
        await wait_until_stored(db, await ask())
        with failing(kind, pragmas, db):
            # A full database still takes records into the free space of its last pages:
            # rounds of requests until one is dropped.
            for _ in range(ROUNDS):
                before = (await dropped(http, server.url))[kind]
                ids = set(await asyncio.gather(*(ask() for _ in range(ROUND))))
                await eventually(partial(settled, ids, before), what="a round written or dropped")
                lost = (await dropped(http, server.url))[kind]
                if lost:
                    break
            assert lost, f"nothing dropped as {kind}"
        assert [line["reason"] for line in logs if line["event"] == FAILING] == [kind]
        await wait_until_stored(db, await ask())
        (resumed,) = await eventually(
            lambda: [line for line in logs if line["event"] == RESUMED], what="resumed, said"
        )
        assert resumed["reason"] == kind and resumed["records_dropped"] == lost
