"""What the memory benchmarks share: the simulator and `429chain serve` in processes of their
own, and a sample of the proxy's footprint (RSS, threads, open files, what its /metrics says).

The simulator (`python -m chain429.sim`) is the upstream: it streams as slowly as asked and
answers 429 past a window's limit, which nginx cannot. The proxy is started as `make bench`
starts it (`429chain serve`, recording on, pinned with `taskset`), on a config given whole.
"""

from __future__ import annotations

import json
import re
import sys
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from payloads import CLIENT_KEY
from proxy_process import memory_kib, proxy_binary, write_config
from spawn import answers, child, free_port, pinned, wait_until

READY_TIMEOUT_S = 30.0
#: Metric families summed over their label sets in a sample (`chain429_` prefix left off).
SAMPLED_METRICS = (
    "entry_in_flight",
    "usage_queue_depth",
    "usage_records_dropped",
    "event_loop_tasks",
    "chain_queue_depth",
)
_SAMPLE_LINE = re.compile(r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{[^}]*\})?\s+(?P<value>\S+)")


@dataclass(frozen=True, slots=True)
class Simulator:
    port: int
    pid: int

    def base_url(self, provider: str) -> str:
        return f"http://127.0.0.1:{self.port}/{provider}/v1"

    def stats(self, provider: str) -> dict[str, Any]:
        url = f"http://127.0.0.1:{self.port}/{provider}/_stats"
        with urllib.request.urlopen(url, timeout=5) as answer:
            stats: dict[str, Any] = json.load(answer)
        return stats


@dataclass(frozen=True, slots=True)
class ServedProxy:
    port: int
    pid: int
    db_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1/chat/completions"


@contextmanager
def run_simulator(
    root: Path, providers: list[dict[str, Any]], cpu: int | None
) -> Iterator[Simulator]:
    """`python -m chain429.sim` serving `providers` (SimProviderConfig fields, camelCase)."""
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = root / "sim.yaml"
    config.write_text(json.dumps({"providers": providers}), encoding="utf-8")  # JSON is YAML
    log = root / "sim.log"
    command = [sys.executable, "-m", "chain429.sim", "--config", str(config)]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    with child(pinned(command, cpu), log) as process:
        ready_path = f"/{providers[0]['name']}/_stats"
        wait_until(
            lambda: answers(port, ready_path),
            what="simulator",
            process=process,
            log=log,
            timeout_s=READY_TIMEOUT_S,
        )
        yield Simulator(port=port, pid=process.pid)


def proxy_settings(port: int, db_path: Path, **more: Any) -> dict[str, Any]:
    """The settings every memory benchmark's proxy has: loopback, the bench client key,
    usage recording on (the default) into `db_path`."""
    return {
        "host": "127.0.0.1",
        "port": port,
        "apiKeys": [CLIENT_KEY],
        "dbPath": str(db_path),
        **more,
    }


@contextmanager
def serve_proxy(
    root: Path, config: Mapping[str, Any], port: int, cpu: int | None
) -> Iterator[ServedProxy]:
    """`429chain serve` on `config` (whose settings listen on `port`), pinned to `cpu`."""
    root.mkdir(parents=True, exist_ok=True)
    path = root / "config.yaml"
    write_config(path, dict(config))
    log = root / "proxy.log"
    command = pinned([proxy_binary(), "serve", "--config", str(path)], cpu)
    with child(command, log) as process:
        wait_until(
            lambda: answers(port, "/health"),
            what="proxy",
            process=process,
            log=log,
            timeout_s=READY_TIMEOUT_S,
        )
        yield ServedProxy(port=port, pid=process.pid, db_path=Path(config["settings"]["dbPath"]))


@dataclass(frozen=True, slots=True)
class Footprint:
    """The proxy at one instant: resident and peak memory (KiB), threads, open files, and the
    metric families of `SAMPLED_METRICS` (None when /metrics did not answer)."""

    rss_kib: int
    peak_kib: int
    threads: int
    open_files: int
    metrics: Mapping[str, float] | None


def sum_metrics(text: str, names: tuple[str, ...] = SAMPLED_METRICS) -> dict[str, float]:
    """The Prometheus text format's samples of `chain429_<name>` for each of `names`, summed
    over their label sets (a name with no sample is left out)."""
    wanted = {f"chain429_{name}": name for name in names}
    wanted |= {f"{full}_total": name for full, name in list(wanted.items())}
    sums: dict[str, float] = {}
    for line in text.splitlines():
        match = _SAMPLE_LINE.match(line)
        if match is None or (name := wanted.get(match["name"])) is None:
            continue
        sums[name] = sums.get(name, 0.0) + float(match["value"])
    return sums


def scrape_metrics(port: int) -> dict[str, float] | None:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/metrics", headers={"Authorization": f"Bearer {CLIENT_KEY}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return sum_metrics(answer.read().decode("utf-8"))
    except OSError:
        return None


def footprint(pid: int, port: int | None = None) -> Footprint:
    """`pid`'s footprint now; its /metrics too when `port` is given."""
    memory = memory_kib(pid)
    status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    threads = re.search(r"^Threads:\s+(\d+)", status, re.MULTILINE)
    open_files = sum(1 for _ in Path(f"/proc/{pid}/fd").iterdir())
    metrics = scrape_metrics(port) if port is not None else None
    thread_count = int(threads[1]) if threads else 0
    return Footprint(memory["VmRSS"], memory["VmHWM"], thread_count, open_files, metrics)


def mib(kib: float) -> str:
    return f"{kib / 1024:.1f} MiB"
