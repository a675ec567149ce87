"""Instructions per stream in the stream path alone (the attempt and the relay), under callgrind.

`make bench-instructions` counts a whole proxy against nginx, which sends the bench stream
(bench/payloads.py: 14 events) in one read. A real upstream sends an event at a time, and the
proxy's per-read work then counts 14 times. This pushes `--streams` streams of the bench stream
through `Attempter.open_stream` and `StreamRelay.run` in this process (on uvloop, with the
aiohttp upstream client of `429chain serve`, a client channel that keeps nothing), under
valgrind's callgrind, against one of two upstreams in another process, pinned to the other core:

- `--shape event`: bench/stepped_upstream.py, which sends each event after the role chunk
  only when the reader asks (a byte on a second connection, sent just before each read of the
  relay): the relay reads one event per read, whatever the machine's load. Asking costs the
  count a `send` and an async generator step per read, the same for any relay code;
- `--shape whole`: nginx (bench/nginx.py), which sends the whole stream in one write.

`--warmup` streams first (imports, the connection pool, caches). Then three streams are
checked: the client channel got the bench stream less its usage chunk (not asked for), ended
by `[DONE]`, and the reads had the shape asked for (one event each, or all in one); then the
counters are zeroed with `callgrind_control`, the streams run one after another, the dump
gives the instructions per stream (all threads, less an empty turn's zeroing and dumping),
and three more streams are checked. `--keep DIR`
copies the dump there for `callgrind_annotate --inclusive=yes` (the per-function profile).
Needs valgrind (and nginx for `--shape whole`): `make bench-stream-instructions`. Exit 2 when
a tool is missing, 1 when a run fails.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvloop

from chain429.config.load import parse_config
from chain429.limits.state import Reservation
from chain429.outcome import Outcome
from chain429.proxy.parse import parse_request
from chain429.redaction import Redactor
from chain429.router.attempt import Attempter, Commit
from chain429.router.plan import ProviderPlan, build_plans
from chain429.router.relay import StreamRelay
from chain429.router.request import ClientRequest, Endpoint
from chain429.upstream_http import AiohttpUpstream
from nginx import nginx_binary, run_nginx
from overhead import pick_cores
from payloads import PROVIDER_KEY, client_request, sse_events
from proxy_process import proxy_config
from recording_instructions import DUMP_NAME, Dumps, callgrind_command
from spawn import BenchError
from stepped_upstream import run_stepped_upstream

CHILD_FLAG = "--under-callgrind"
SHAPES = ("event", "whole")
PROVIDER = "nginx-sse"  # proxy_config's SSE provider (any upstream with nginx's URL layout)
MEASURED_DUMP = 2  # the first dump counts an empty turn: zeroing and dumping alone
CHECKED = 3  # streams checked before and after the counted ones
IDLE_S = 60.0  # generous: callgrind slows the reader


@dataclass(frozen=True, slots=True)
class Options:
    shape: str
    streams: int
    warmup: int
    keep: Path | None


class Discard:
    """A client channel that keeps what it is sent only when a check needs it."""

    def __init__(self, keep: bool) -> None:
        self.written: list[bytes] | None = [] if keep else None

    async def reply(self, status: int, body: bytes, headers: Mapping[str, str]) -> None:
        raise AssertionError("a stream is not a JSON reply")

    async def start_stream(self, headers: Mapping[str, str]) -> None:
        pass

    async def write(self, data: bytes) -> None:
        if self.written is not None:
            self.written.append(data)

    async def end_stream(self) -> None:
        pass


@dataclass(frozen=True, slots=True)
class Rig:
    attempter: Attempter
    plan: ProviderPlan
    reservation: Reservation
    request: ClientRequest
    redactor: Redactor
    steps: socket.socket | None  # the stepped upstream's step connection (`--shape event`)

    async def stream(self, channel: Discard, reads: list[bytes] | None = None) -> None:
        """One stream, start to end; `reads` gets the relay's upstream reads when given (the
        events read with the commit point first)."""
        commit = await self.attempter.open_stream(self.plan, self.reservation, self.request)
        if not isinstance(commit, Commit):
            raise BenchError(f"the stream did not commit: {commit}")
        if reads is not None:
            reads.append(read_with_commit(commit))
        if commit.chunks is not None and (self.steps is not None or reads is not None):
            commit.chunks = _stepped(commit.chunks, self.steps, reads)
        relay = StreamRelay(self.plan, False, False, IDLE_S, self.redactor)
        result = await relay.run(commit, channel)
        if result.outcome is not Outcome.SERVED:
            raise BenchError(f"the stream was not served: {result}")


def read_with_commit(commit: Commit) -> bytes:
    """The events read with the commit point, after it: `Commit.rest`, or the held events
    after the first in the code before the pass-through (PYTHONPATH=<its src> to count it)."""
    if hasattr(commit, "rest"):
        return bytes(commit.rest)
    return b"".join(b"data: " + data + b"\n\n" for data in commit.events[1:])


async def _stepped(
    chunks: AsyncIterator[bytes], steps: socket.socket | None, reads: list[bytes] | None
) -> AsyncIterator[bytes]:
    """`chunks`, asking the stepped upstream for the next event before each read."""
    while True:
        if steps is not None:
            steps.send(b".")
        chunk = await anext(chunks, None)
        if chunk is None:
            return
        if reads is not None:
            reads.append(chunk)
        yield chunk


def expected_client_bytes() -> bytes:
    """What a client that did not ask for usage gets: the bench stream without its usage chunk."""
    return "".join(e for e in sse_events() if '"usage"' not in e).encode()


def check_stream(shape: str, written: Sequence[bytes], reads: Sequence[bytes]) -> None:
    """The client got the bench stream (less usage); the relay's reads (those with the commit
    point's first) had `shape`: one event each after the commit point's (`event`), or all
    events with the commit point's (`whole`)."""
    if b"".join(written) != expected_client_bytes():
        raise BenchError(f"the client got {b''.join(written)[:300]!r}...")
    per_read = [r.count(b"\n\n") for r in reads]
    events_after_commit = len(sse_events()) - 1
    wanted = [events_after_commit] if shape == "whole" else [0] + [1] * events_after_commit
    if per_read != wanted:
        raise BenchError(f"the reads were not of shape {shape!r}: {per_read} events per read")


async def checked(streams: Rig, shape: str) -> None:
    """`CHECKED` streams, each checked (`check_stream`): run before and after the count."""
    for _ in range(CHECKED):
        channel, reads = Discard(keep=True), []
        await streams.stream(channel, reads)
        check_stream(shape, channel.written or [], reads)


@contextmanager
def upstream(shape: str, root: Path, cpu: int | None) -> Iterator[tuple[str, int | None]]:
    """The SSE base URL of the upstream of `shape`, and its step port (`event` only)."""
    if shape == "whole":
        with run_nginx(root / "nginx", cpu) as nginx:
            yield nginx.base_url("sse"), None
    else:
        with run_stepped_upstream(root / "upstream", cpu) as stepped:
            yield stepped.base_url("sse"), stepped.step_port


def build_rig(
    base_url: str, root: Path, client: AiohttpUpstream, steps: socket.socket | None
) -> Rig:
    """The bench proxy's SSE entry (its config, recording off) pointed at `base_url`."""

    class At:  # proxy_config reads only the upstream's base URLs
        @staticmethod
        def base_url(kind: str) -> str:
            return base_url

    settings = proxy_config(At(), 0, root / "usage.db", recording=False)  # type: ignore[arg-type]
    config = parse_config(json.dumps(settings), environ={}, source="bench")
    redactor = Redactor([PROVIDER_KEY])
    return Rig(
        Attempter(client, redactor),
        build_plans(config)[PROVIDER],
        Reservation(PROVIDER, 0, "…0001", PROVIDER_KEY, "bench-model"),
        parse_request(client_request("sse", stream=True).encode(), Endpoint.CHAT),
        redactor,
        steps,
    )


async def run_child(opts: Options, root: Path) -> float:
    """Instructions per stream (all threads), between a zero and a dump of the counters."""
    cores = pick_cores()
    with upstream(opts.shape, root, cores.load) as (base_url, step_port), ExitStack() as stack:
        if cores.proxy is not None:
            os.sched_setaffinity(0, {cores.proxy})
        steps = None
        if step_port is not None:
            steps = stack.enter_context(socket.create_connection(("127.0.0.1", step_port)))
        client = AiohttpUpstream.create()
        try:
            streams = build_rig(base_url, root, client, steps)
            for _ in range(opts.warmup):
                await streams.stream(Discard(keep=False))
            await checked(streams, opts.shape)
            dumps = Dumps(root)
            await dumps.zero()
            empty = sum(await dumps.take())  # what zeroing and dumping cost
            await dumps.zero()
            channel = Discard(keep=False)
            for _ in range(opts.streams):
                await streams.stream(channel)
            counted = sum(await dumps.take())
            await checked(streams, opts.shape)
        finally:
            await client.close()
    return (counted - empty) / opts.streams


def keep_dumps(root: Path, opts: Options) -> None:
    """The measured dump (a file per thread) into `--keep`, named after the shape."""
    if opts.keep is not None:
        opts.keep.mkdir(parents=True, exist_ok=True)
        for dump in root.glob(f"{DUMP_NAME}.{MEASURED_DUMP}-*"):
            shutil.copy(dump, opts.keep / f"{opts.shape}-{dump.name}")


def _parse(argv: Sequence[str]) -> tuple[Options, bool]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", choices=SHAPES, default="event")
    parser.add_argument("--streams", type=int, default=200, help="streams counted")
    parser.add_argument("--warmup", type=int, default=20, help="streams run (and checked) first")
    parser.add_argument("--keep", type=Path, help="copy the callgrind dump into this directory")
    parser.add_argument(CHILD_FLAG, action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if min(args.streams, args.warmup) < 1:
        parser.error("--streams and --warmup must be positive")
    keep = args.keep.resolve() if args.keep else None
    return Options(args.shape, args.streams, args.warmup, keep), bool(args.under_callgrind)


def main(argv: Sequence[str]) -> int:
    opts, is_child = _parse(argv)
    missing = [t for t in ("valgrind", "callgrind_control") if shutil.which(t) is None]
    if missing or (opts.shape == "whole" and nginx_binary() is None):
        print("needs valgrind (and nginx): apt-get install -y valgrind nginx", file=sys.stderr)
        return 2
    if is_child:
        root = Path(os.environ["CHAIN429_CALLGRIND_DIR"])
        try:
            with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:  # as serve's
                per_stream = runner.run(run_child(opts, root))
            keep_dumps(root, opts)
        except BenchError as exc:
            print(f"BENCHMARK FAILED: {exc}", file=sys.stderr)
            return 1
        print(
            f"{opts.shape}: {per_stream:,.0f} instructions per stream "
            f"({opts.streams} streams of {len(sse_events())} events)"
        )
        return 0
    with tempfile.TemporaryDirectory(prefix="429chain-stream-instructions-") as tmp:
        command = [*callgrind_command(Path(tmp)), sys.executable, __file__, *argv, CHILD_FLAG]
        environ = {**os.environ, "CHAIN429_CALLGRIND_DIR": tmp, "PYTHONHASHSEED": "0"}
        done = subprocess.run(command, env=environ, stdout=subprocess.PIPE, text=True, check=False)
        print(done.stdout, end="")
        return done.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
