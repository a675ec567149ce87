"""The insert worker process: its protocol, and how the store survives it dying or being signalled.

Faulty workers are small Python programs started in place of the real one; they speak the real
protocol (`insert_worker.read_frame` / `write_frame`) and misbehave at a chosen point.
"""

from __future__ import annotations

import asyncio
import functools
import io
import os
import resource
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

import chain429.usage.store
from chain429.usage.insert_process import InsertProcess, InsertProcessError
from chain429.usage.insert_worker import (
    COMMITTED,
    FAILED,
    REFUSED,
    ChannelClosed,
    Unrecoverable,
    read_frame,
    run_transaction,
    serve,
    write_frame,
)
from chain429.usage.store import UsageStore, UsageStoreError
from chain429.usage.writer import BatchWriter
from tests.support.polling import eventually
from tests.unit.usage.usage_records import open_store, served

CREATE = "CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)"
INSERT = "INSERT INTO t (k, v) VALUES (?, ?)"


#: A fake worker's opening: it takes the handshake and says the database is open.
HANDSHAKE = "w.read_frame(sys.stdin.buffer)\nw.write_frame(sys.stdout.buffer, (w.COMMITTED, ''))\n"


def fake_worker(body: str, *args: str) -> list[str]:
    """A worker command running `body` with the real protocol helpers imported as `w`."""
    program = "import os, signal, sys\nfrom chain429.usage import insert_worker as w\n" + body
    return [sys.executable, "-c", program, *args]


@contextmanager
def worker_on(table: Path, **options: Any) -> Iterator[InsertProcess]:
    """An `InsertProcess` for `table`, closed on the way out."""
    worker = InsertProcess(table, (), **options)
    try:
        yield worker
    finally:
        worker.close()


@pytest.fixture
def table(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "t.db"
    with sqlite3.connect(path) as connection:
        connection.execute(CREATE)
    yield path


def stored(path: Path) -> list[tuple[int, str]]:
    with sqlite3.connect(path) as connection:
        return connection.execute("SELECT k, v FROM t ORDER BY k").fetchall()


def gone(pid: int) -> bool:
    """True once `pid` has exited (a zombie awaiting its reaper counts as exited)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


# --- the worker program, driven in this process through in-memory streams --------------------


def run_worker(path: Path, *transactions: object) -> list[tuple[int, str]]:
    requests = io.BytesIO()
    write_frame(requests, (str(path), ("PRAGMA journal_mode=WAL",)))
    for transaction in transactions:
        write_frame(requests, transaction)
    requests.seek(0)
    answers = io.BytesIO()
    assert serve(requests, answers) == 0, "end of input ends the worker cleanly"
    answers.seek(0)
    replies = []
    while True:
        try:
            replies.append(tuple(read_frame(answers)))
        except ChannelClosed:
            return replies


def test_each_transaction_is_committed_and_answered(table: Path) -> None:
    replies = run_worker(table, ((INSERT, (1, "a")), (INSERT, (2, None))), ((INSERT, (3, "c")),))
    assert replies == [(COMMITTED, ""), (COMMITTED, ""), (COMMITTED, "")]
    assert stored(table) == [(1, "a"), (2, None), (3, "c")]


def test_a_refused_row_rolls_back_its_whole_transaction_only(table: Path) -> None:
    replies = run_worker(
        table,
        ((INSERT, (1, "a")),),
        ((INSERT, (2, "b")), (INSERT, (1, "again"))),
        ((INSERT, (3, "c")),),
    )
    assert [status for status, _ in replies] == [COMMITTED, COMMITTED, REFUSED, COMMITTED]
    assert "UNIQUE constraint failed" in replies[2][1]
    assert stored(table) == [(1, "a"), (3, "c")], "row 2 went with its transaction"


def test_other_database_errors_fail_the_transaction_not_the_worker(table: Path) -> None:
    replies = run_worker(table, (("INSERT INTO missing VALUES (?)", (1,)),), ((INSERT, (1, "a")),))
    assert replies[1] == (FAILED, "OperationalError: no such table: missing")
    assert replies[2] == (COMMITTED, "")
    assert stored(table) == [(1, "a")]


def test_values_sqlite_cannot_store_are_refused_without_ending_the_worker(table: Path) -> None:
    replies = run_worker(
        table,
        ((INSERT, (1, 2**70)),),  # past 64 bits
        ((INSERT, (2, "\ud800")),),  # a lone surrogate: not encodable as UTF-8
        ((INSERT, (3, "c")),),
    )
    assert replies[1:] == [
        (REFUSED, "OverflowError"),
        (REFUSED, "UnicodeEncodeError"),
        (COMMITTED, ""),
    ], "other errors are told by kind only: their text could quote the value"
    assert stored(table) == [(3, "c")]


def test_a_malformed_transaction_fails_without_ending_the_worker(table: Path) -> None:
    replies = run_worker(table, (("not a pair",),), ((INSERT, (1, "a")),))
    assert replies[1:] == [(FAILED, "ValueError"), (COMMITTED, "")]


class RollbackFails:
    """A connection whose statements and rollback both fail, as on a dying disk."""

    in_transaction = True

    def execute(self, sql: str, parameters: object = ()) -> None:
        if sql != "BEGIN IMMEDIATE":
            raise sqlite3.OperationalError("disk I/O error")


def test_a_failed_rollback_is_unrecoverable_and_says_so() -> None:
    with pytest.raises(Unrecoverable) as caught:
        run_transaction(RollbackFails(), ((INSERT, (1, "a")),))  # type: ignore[arg-type]
    assert caught.value.answer == (
        FAILED,
        "OperationalError: disk I/O error; then the rollback failed: "
        "OperationalError: disk I/O error",
    )


def test_a_database_that_cannot_be_opened_is_reported(tmp_path: Path) -> None:
    requests = io.BytesIO()
    write_frame(requests, (str(tmp_path / "no" / "such" / "dir" / "t.db"), ()))
    requests.seek(0)
    answers = io.BytesIO()
    assert serve(requests, answers) == 1
    answers.seek(0)
    status, message = read_frame(answers)
    assert status == FAILED and "unable to open database" in message


def test_input_cut_within_a_frame_ends_the_worker_without_running_it(table: Path) -> None:
    requests = io.BytesIO()
    write_frame(requests, (str(table), ()))
    whole = io.BytesIO()
    write_frame(whole, ((INSERT, (1, "a")),))
    requests.write(whole.getvalue()[:-3])
    requests.seek(0)
    assert serve(requests, io.BytesIO()) == 0
    assert stored(table) == []


# --- the real worker process ------------------------------------------------------------------


def test_the_worker_runs_in_its_own_process_until_closed(table: Path) -> None:
    worker = InsertProcess(table, ())
    worker.start()
    pid = worker.pid
    assert pid is not None and pid != os.getpid()
    assert worker.run(((INSERT, (1, "a")),)) == (COMMITTED, "")
    assert stored(table) == [(1, "a")], "committed before it answered"
    worker.close()
    assert worker.pid is None
    assert gone(pid), "close() waits for the worker to exit"


def big_transaction(rows: int = 20_000) -> tuple[tuple[str, tuple[object, ...]], ...]:
    """A transaction whose frame (about 2 MB) is far larger than a pipe's buffer."""
    return tuple((INSERT, (k, "x" * 100)) for k in range(rows))


def test_a_transaction_larger_than_the_pipe_goes_through_whole(table: Path) -> None:
    with worker_on(table) as worker:
        assert worker.run(big_transaction()) == (COMMITTED, "")
        assert len(stored(table)) == 20_000


def test_a_stopped_worker_that_takes_no_input_is_replaced_and_the_request_resent(
    table: Path,
) -> None:
    with worker_on(table, timeout=1.0) as worker:
        worker.start()
        stopped = worker.pid
        assert stopped is not None
        os.kill(stopped, signal.SIGSTOP)
        assert worker.run(big_transaction()) == (COMMITTED, "")
        assert worker.pid not in (None, stopped) and worker.starts == 2
        assert gone(stopped), "the stopped worker was killed"
        assert len(stored(table)) == 20_000


def test_descriptors_numbered_past_1024_work(table: Path) -> None:
    # A busy proxy holds over a thousand sockets; `select` cannot watch such descriptors.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1200:
        pytest.skip(f"the descriptor limit is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 1200), hard))
    held: list[int] = []
    with worker_on(table) as worker:
        while not held or held[-1] < 1030:
            held.extend(os.pipe())
        worker.start()
        assert worker.run(((INSERT, (1, "a")),)) == (COMMITTED, "")
        assert stored(table) == [(1, "a")]
        for fd in held:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_a_worker_killed_while_idle_is_replaced_before_the_next_transaction(table: Path) -> None:
    with worker_on(table) as worker:
        worker.start()
        first = worker.pid
        assert first is not None
        os.kill(first, signal.SIGKILL)
        asyncio.run(eventually(lambda: gone(first), what="the killed worker exits"))
        with capture_logs() as logs:
            assert worker.run(((INSERT, (1, "a")),)) == (COMMITTED, "")
        assert worker.pid not in (None, first) and worker.starts == 2
        assert logs == [
            {
                "event": "usage insert worker restarted",
                "exit_code": -signal.SIGKILL,
                "log_level": "warning",
            }
        ]
        assert stored(table) == [(1, "a")]


def test_the_worker_is_out_of_reach_of_stop_signals(table: Path) -> None:
    # A terminal's Ctrl-C goes to the foreground process group: the worker has its own. A
    # service manager may signal every process of the service: the worker ignores those
    # signals. Either way it must still be there for the proxy's last flush.
    with worker_on(table) as worker:
        worker.start()
        pid = worker.pid
        assert pid is not None
        assert os.getpgid(pid) == pid != os.getpgid(0)
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            os.kill(pid, signum)
        assert worker.run(((INSERT, (1, "a")),)) == (COMMITTED, "")
        assert (worker.pid, worker.starts) == (pid, 1)


def test_a_parameter_the_channel_cannot_carry_is_an_error_here_not_a_dead_worker(
    table: Path,
) -> None:
    with worker_on(table) as worker:
        worker.start()
        pid = worker.pid
        with pytest.raises(ValueError, match="unmarshallable"):
            worker.run(((INSERT, (1, object())),))
        assert worker.run(((INSERT, (1, "a")),)) == (COMMITTED, "")
        assert (worker.pid, worker.starts) == (pid, 1)


def test_a_worker_gone_before_it_had_the_transaction_is_replaced_and_runs_it(
    table: Path, tmp_path: Path
) -> None:
    # The first worker closes its input after the handshake (so the transaction cannot reach
    # it) but stays alive; the second is the real one.
    flaky = fake_worker(
        "marker = sys.argv[1]\n"
        "if os.path.exists(marker):\n"
        "    sys.exit(w.main())\n"
        "open(marker, 'w').close()\n"
        "w.read_frame(sys.stdin.buffer)\n"
        "os.close(0)\n"
        "w.write_frame(sys.stdout.buffer, (w.COMMITTED, ''))\n"
        "signal.pause()\n",
        str(tmp_path / "first-start-done"),
    )
    with worker_on(table, command=flaky) as worker:
        assert worker.run(((INSERT, (1, "a")),)) == (COMMITTED, "")
        assert worker.starts == 2
        assert stored(table) == [(1, "a")]


def test_a_request_is_resent_once_only(table: Path) -> None:
    # Every worker closes its input after the handshake: one resend, then the error.
    deaf = fake_worker(
        "w.read_frame(sys.stdin.buffer)\n"
        "os.close(0)\n"
        "w.write_frame(sys.stdout.buffer, (w.COMMITTED, ''))\n"
        "signal.pause()\n"
    )
    with worker_on(table, command=deaf) as worker:
        with pytest.raises(InsertProcessError, match="before it had the whole request"):
            worker.run(((INSERT, (1, "a")),))
        assert worker.starts == 2 and worker.pid is None


def test_a_garbled_answer_ends_the_worker(table: Path) -> None:
    garbled = fake_worker(
        HANDSHAKE + "w.read_frame(sys.stdin.buffer)\n"
        "sys.stdout.buffer.write(w.HEADER.pack(2**31)); sys.stdout.buffer.flush()\n"
        "signal.pause()\n"
    )
    with worker_on(table, command=garbled) as worker:
        worker.start()
        pid = worker.pid
        assert pid is not None
        with pytest.raises(InsertProcessError, match="before answering"):
            worker.run(((INSERT, (1, "a")),))
        assert worker.pid is None and gone(pid)


def test_a_worker_that_dies_before_answering_is_an_error_then_replaced(table: Path) -> None:
    # Whether its transaction was committed is unknown, so it is not sent again.
    dies = fake_worker(HANDSHAKE + "w.read_frame(sys.stdin.buffer)\nsys.exit(3)\n")
    with worker_on(table, command=dies) as worker:
        with pytest.raises(InsertProcessError, match=r"exit code 3\) before answering"):
            worker.run(((INSERT, (1, "a")),))
        assert worker.pid is None
        with pytest.raises(InsertProcessError):
            worker.run(((INSERT, (2, "b")),))
        assert worker.starts == 2, "each transaction found a fresh worker"


def test_a_worker_that_does_not_answer_in_time_is_killed(table: Path) -> None:
    stuck = fake_worker(HANDSHAKE + "signal.pause()\n")
    with worker_on(table, command=stuck, timeout=2.0) as worker:
        worker.start()
        pid = worker.pid
        assert pid is not None
        with pytest.raises(InsertProcessError, match=r"exit code -9\) after not answering"):
            worker.run(((INSERT, (1, "a")),))
        assert worker.pid is None and gone(pid)


def test_a_worker_that_cannot_start_is_an_error(table: Path) -> None:
    worker = InsertProcess(table, (), command=[str(table.parent / "no-such-program")])
    with pytest.raises(InsertProcessError, match="cannot start the insert worker"):
        worker.start()
    silent = InsertProcess(table, (), command=fake_worker("sys.exit(5)\n"))
    before = len(os.listdir("/proc/self/fd"))
    with pytest.raises(InsertProcessError, match=r"exit code 5\)"):
        silent.start()
    assert silent.pid is None
    assert len(os.listdir("/proc/self/fd")) == before, "its pipes are closed"


# --- through the store ------------------------------------------------------------------------


async def test_the_store_inserts_through_its_worker_and_recovers_from_a_kill(
    tmp_path: Path,
) -> None:
    async with open_store(tmp_path / "u.db") as store:
        first = store.insert_worker_pid
        assert first is not None and first != os.getpid()
        assert await store.insert([served("a")]) == 0
        os.kill(first, signal.SIGKILL)
        await eventually(lambda: gone(first), what="the killed worker exits")
        assert await store.insert([served("b")]) == 0
        assert store.insert_worker_pid not in (None, first)
        assert store.insert_worker_restarts == 1
        ids = await store.read(
            lambda c: [r[0] for r in c.exec_driver_sql("SELECT request_id FROM requests")]
        )
    assert sorted(ids) == ["a", "b"]
    assert gone(first)


async def test_a_record_the_database_cannot_hold_is_skipped_not_its_batch(
    tmp_path: Path,
) -> None:
    async with open_store(tmp_path / "u.db") as store:
        skipped = await store.insert([served("a"), served("huge", tokens=(2**70, 1)), served("b")])
        assert skipped == 1
        assert store.insert_worker_restarts == 0
        ids = await store.read(
            lambda c: [r[0] for r in c.exec_driver_sql("SELECT request_id FROM requests")]
        )
    assert sorted(ids) == ["a", "b"]


async def test_closing_the_store_ends_its_worker(tmp_path: Path) -> None:
    store = UsageStore(tmp_path / "u.db")
    await store.open()
    pid = store.insert_worker_pid
    assert pid is not None
    await store.close()
    assert store.insert_worker_pid is None
    assert gone(pid)


#: How long closing may take with a transaction stuck in the worker (which would hold it for
#: `IO_TIMEOUT_S`, a minute, if closing queued behind it).
PROMPT_CLOSE_S = 3.0


@pytest.fixture
def stuck_store(tmp_path: Path, monkeypatch) -> tuple[UsageStore, Path]:
    """A store whose insert worker takes a transaction, touches a marker file, and hangs."""
    marker = tmp_path / "took-a-transaction"
    stuck = fake_worker(
        HANDSHAKE + "w.read_frame(sys.stdin.buffer)\nopen(sys.argv[1], 'w').close()\n"
        "signal.pause()\n",
        str(marker),
    )
    monkeypatch.setattr(
        chain429.usage.store, "InsertProcess", functools.partial(InsertProcess, command=stuck)
    )
    return UsageStore(tmp_path / "u.db"), marker


async def test_closing_the_store_does_not_wait_behind_a_stuck_insert(stuck_store) -> None:
    store, marker = stuck_store
    await store.open()
    pid = store.insert_worker_pid
    assert pid is not None
    insert = asyncio.ensure_future(store.insert([served("a")]))
    await eventually(marker.exists, what="the worker took the transaction")
    async with asyncio.timeout(PROMPT_CLOSE_S):
        await store.close()
        with pytest.raises(UsageStoreError, match="insert failed"):
            await insert
    assert gone(pid)


async def test_a_writer_closing_by_a_deadline_gives_up_what_is_not_written(stuck_store) -> None:
    store, marker = stuck_store
    await store.open()
    writer = BatchWriter(store)
    await writer.start()
    for i in range(3):
        writer.submit(served(f"being-written-{i}"))
    await eventually(marker.exists, what="the worker took the first batch")
    writer.submit(served("still-queued"))
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(PROMPT_CLOSE_S):
        assert await writer.close(deadline=loop.time() + 0.2) == 4
        await store.close()
    assert (writer.written, writer.failed) == (0, 4)


def test_the_worker_does_not_outlive_a_killed_proxy(tmp_path: Path) -> None:
    # The proxy process is gone without closing anything: its worker sees the end of its input.
    program = (
        "import asyncio\n"
        "from chain429.usage.store import UsageStore\n"
        "async def main():\n"
        f"    store = UsageStore({str(tmp_path / 'u.db')!r})\n"
        "    await store.open()\n"
        "    print(store.insert_worker_pid, flush=True)\n"
        "    await asyncio.Event().wait()\n"
        "asyncio.run(main())\n"
    )
    with subprocess.Popen([sys.executable, "-c", program], stdout=subprocess.PIPE) as holder:
        assert holder.stdout is not None
        try:
            worker = int(holder.stdout.readline())
            assert not gone(worker)
        finally:
            holder.kill()
    asyncio.run(eventually(lambda: gone(worker), what="the orphaned worker exits"))
