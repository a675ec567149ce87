"""The load generator: wrk with a Lua script that POSTs a body and reports results as JSON.

The script defines no `response()` hook on purpose: with one, wrk parses every response into
Lua, which slows the generator and would flatten the direct (nginx) figures. wrk's own error
counters are reported instead (`status` counts responses with a status of 400 or more).
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from spawn import BenchError, pinned

RESULT_MARK = "BENCH-RESULT "
TIMEOUT_S = 10
_RESULT_LINE = re.compile(rf"^{RESULT_MARK}(\{{.*\}})$", re.MULTILINE)

_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '%s{"requests":%d,"duration_us":%d,"bytes":%d,"status_errors":%d,"connect_errors":%d,'
    .. '"read_errors":%d,"write_errors":%d,"timeouts":%d,"p50_us":%d,"p99_us":%d,'
    .. '"mean_us":%.1f,"max_us":%d}\\n',
    "%(mark)s", summary.requests, summary.duration, summary.bytes, e.status, e.connect,
    e.read, e.write, e.timeout, latency:percentile(50), latency:percentile(99),
    latency.mean, latency.max))
end
"""


@dataclass(frozen=True, slots=True)
class WrkResult:
    requests: int
    duration_us: int
    bytes: int
    status_errors: int
    connect_errors: int
    read_errors: int
    write_errors: int
    timeouts: int
    p50_us: int
    p99_us: int
    mean_us: float
    max_us: int

    @property
    def rps(self) -> float:
        return self.requests / (self.duration_us / 1e6) if self.duration_us else 0.0

    @property
    def errors(self) -> int:
        return (
            self.status_errors
            + self.connect_errors
            + self.read_errors
            + self.write_errors
            + self.timeouts
        )

    def error_summary(self) -> str:
        return (
            f"status>=400: {self.status_errors}, connect: {self.connect_errors}, "
            f"read: {self.read_errors}, write: {self.write_errors}, timeout: {self.timeouts}"
        )


def wrk_binary() -> str | None:
    return shutil.which("wrk")


def lua_script(body: str, api_key: str) -> str:
    if "]==]" in body:
        raise BenchError("request body cannot be embedded in a Lua long string")
    return (
        'wrk.method = "POST"\n'
        f"wrk.body = [==[{body}]==]\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["Authorization"] = "Bearer {api_key}"\n'
        + _DONE.replace('"%(mark)s"', json.dumps(RESULT_MARK))
    )


def write_script(path: Path, body: str, api_key: str) -> Path:
    path.write_text(lua_script(body, api_key), encoding="utf-8")
    return path


def wrk_command(url: str, script: Path, *, connections: int, duration_s: float) -> list[str]:
    """wrk with one thread and `connections` keep-alive connections."""
    binary = wrk_binary()
    if binary is None:
        raise BenchError("wrk not found: apt-get install -y wrk")
    return [
        binary,
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(duration_s))}s",
        f"--timeout={TIMEOUT_S}s",
        "-s",
        str(script),
        url,
    ]


def wrk_result(url: str, returncode: int | None, stdout: str, stderr: str) -> WrkResult:
    """The figures a run printed, or BenchError when it failed."""
    match = _RESULT_LINE.search(stdout)
    if returncode != 0 or match is None:
        raise BenchError(f"wrk failed (exit {returncode}) against {url}:\n{stdout}{stderr}")
    return WrkResult(**json.loads(match.group(1)))


def run_wrk(
    url: str, script: Path, *, connections: int, duration_s: float, cpu: int | None
) -> WrkResult:
    """One wrk run (see `wrk_command`), pinned to `cpu`."""
    command = wrk_command(url, script, connections=connections, duration_s=duration_s)
    done = subprocess.run(pinned(command, cpu), capture_output=True, text=True, check=False)
    return wrk_result(url, done.returncode, done.stdout, done.stderr)


async def run_wrk_async(
    url: str, script: Path, *, connections: int, duration_s: float, cpu: int | None
) -> WrkResult:
    """`run_wrk` without blocking the event loop (for a proxy served by this same process)."""
    command = pinned(wrk_command(url, script, connections=connections, duration_s=duration_s), cpu)
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    stdout, stderr = await process.communicate()
    return wrk_result(url, process.returncode, stdout.decode(), stderr.decode())
