"""The processes under test: `429chain serve` on a generated config, and the bare relay.

Two generic-openai providers point at the nginx upstream (`json` and `sse` base URLs), each the
only entry of a chain of the same name, so the client picks the answer kind with `model`. The
relay (bench/relay.py) forwards to nginx at the same path, so its URL names the kind.
Both start the same way: pinned with `taskset`, optionally under a wrapper such as valgrind.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from chain429.config.load import parse_config
from chain429.errors import ConfigError
from payloads import CLIENT_KEY, PROVIDER_KEY
from spawn import BenchError, answers, child, free_port, pinned, wait_until

KINDS = ("json", "sse")


class Upstream(Protocol):
    """Where the upstream listens (nginx, or the slow upstream of the TTFT benchmark): answers
    of each kind under `/<kind>/v1`."""

    @property
    def port(self) -> int: ...

    def base_url(self, kind: str) -> str: ...


RELAY_SCRIPT = Path(__file__).resolve().parent / "relay.py"
READY_TIMEOUT_S = 20.0


def proxy_config(
    upstream: Upstream, port: int, db_path: Path, *, recording: bool
) -> dict[str, Any]:
    """The proxy's config; `recording` decides whether usage is written to `db_path`."""
    settings: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "apiKeys": [CLIENT_KEY],
        "defaultChain": "json",
        "dbPath": str(db_path),
    }
    settings.update(recording_settings(recording))
    return {
        "version": 1,
        "settings": settings,
        "providers": [
            {
                "id": f"nginx-{kind}",
                "type": "generic-openai",
                "apiKey": PROVIDER_KEY,
                "baseUrl": upstream.base_url(kind),
            }
            for kind in KINDS
        ],
        "chains": [
            {"name": kind, "entries": [{"provider": f"nginx-{kind}", "model": "bench-model"}]}
            for kind in KINDS
        ],
    }


def upstream_client_args(client: str) -> tuple[str, ...]:
    """`429chain serve`'s arguments that pick the upstream HTTP client (issue 14)."""
    return () if client == "aiohttp" else ("--upstream-client", client)


def recording_settings(recording: bool) -> dict[str, Any]:
    """Settings that turn usage recording (the SQLite usage database) on or off."""
    return {"recordUsage": recording}


@dataclass(frozen=True, slots=True)
class Proxy:
    port: int
    pid: int
    db_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1/chat/completions"

    def chat_url(self, kind: str) -> str:
        """The URL that serves `kind`: the same for both, the chain is picked by `model`."""
        return self.url


@dataclass(frozen=True, slots=True)
class Relay:
    port: int
    pid: int

    def chat_url(self, kind: str) -> str:
        return f"http://127.0.0.1:{self.port}/{kind}/v1/chat/completions"


def proxy_binary() -> str:
    found = shutil.which("429chain", path=str(Path(sys.executable).parent)) or shutil.which(
        "429chain"
    )
    if found is None:
        raise BenchError("429chain is not installed in this Python: run `make setup` first")
    return found


def write_config(path: Path, config: dict[str, Any]) -> None:
    text = json.dumps(config, indent=2)  # JSON is YAML: the loader reads it as written
    try:
        parse_config(text, environ={}, source=str(path))
    except ConfigError as exc:
        raise BenchError("generated proxy config is invalid:\n" + "\n".join(exc.problems)) from exc
    path.write_text(text, encoding="utf-8")


@contextmanager
def run_proxy(
    root: Path,
    upstream: Upstream,
    cpu: int | None,
    *,
    recording: bool,
    wrapper: Sequence[str] = (),
    ready_timeout_s: float = READY_TIMEOUT_S,
    serve_args: Sequence[str] = (),
) -> Iterator[Proxy]:
    """Start the proxy (stdout and stderr to `root`/proxy.log), pinned to `cpu`; stop it on exit.

    `wrapper` goes before the command (after `taskset`), e.g. valgrind and its options;
    `serve_args` after `429chain serve --config ...`, e.g. `--upstream-client pyreqwest`.
    """
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = root / "config.yaml"
    db_path = root / "usage.db"
    write_config(config, proxy_config(upstream, port, db_path, recording=recording))
    log = root / "proxy.log"
    serve = [proxy_binary(), "serve", "--config", str(config), *serve_args]
    command = pinned([*wrapper, *serve], cpu)
    with child(command, log) as process:
        wait_until(
            lambda: answers(port, "/health"),
            what="proxy",
            process=process,
            log=log,
            timeout_s=ready_timeout_s,
        )
        yield Proxy(port=port, pid=process.pid, db_path=db_path)


@contextmanager
def run_relay(
    root: Path,
    upstream: Upstream,
    cpu: int | None,
    *,
    wrapper: Sequence[str] = (),
    ready_timeout_s: float = READY_TIMEOUT_S,
) -> Iterator[Relay]:
    """Start the bare relay (output to `root`/relay.log), pinned to `cpu`; stop it on exit."""
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = root / "relay.log"
    upstream_url = f"http://127.0.0.1:{upstream.port}"
    relay = [sys.executable, str(RELAY_SCRIPT), "--port", str(port), "--upstream", upstream_url]
    with child(pinned([*wrapper, *relay], cpu), log) as process:
        wait_until(
            lambda: answers(port, "/health"),
            what="relay",
            process=process,
            log=log,
            timeout_s=ready_timeout_s,
        )
        yield Relay(port=port, pid=process.pid)


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS (resident now) and VmHWM (peak resident) of `pid`, in KiB."""
    fields: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0])
    return fields


def _stat_cpu_seconds(stat: Path) -> float:
    """User plus system CPU time from a /proc `stat` file (a process's or one thread's)."""
    fields = stat.read_text(encoding="ascii").rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time `pid` has used so far."""
    return _stat_cpu_seconds(Path(f"/proc/{pid}/stat"))


def thread_cpu_seconds(pid: int) -> tuple[float, float]:
    """CPU time of `pid`'s main thread (the event loop) and of all its other threads together.

    Off, the proxy's other threads are idle; on, they are the usage writer (the readers only
    work when the statistics API is asked).
    """
    main = others = 0.0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            spent = _stat_cpu_seconds(task / "stat")
        except FileNotFoundError:  # a thread that ended while we looked
            continue
        if task.name == str(pid):
            main += spent
        else:
            others += spent
    return main, others


def context_switches(pid: int) -> int:
    """Voluntary and involuntary context switches of all of `pid`'s threads so far."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            status = (task / "status").read_text(encoding="ascii")
        except FileNotFoundError:  # a thread that ended while we looked
            continue
        for line in status.splitlines():
            if line.startswith(("voluntary_ctxt_switches:", "nonvoluntary_ctxt_switches:")):
                total += int(line.split()[1])
    return total


def usage_rows(db_path: Path) -> int | None:
    """Rows in the usage database's `requests` table; None when there is no database."""
    if not db_path.exists():
        return None
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as db:
        try:
            return int(db.execute("SELECT count(*) FROM requests").fetchone()[0])
        except sqlite3.OperationalError:
            return 0
