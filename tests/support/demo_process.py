"""`429chain demo` as a user runs it: a child process on a free port, its banner read."""

from __future__ import annotations

import asyncio
import re
import signal
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

COMMAND = [sys.executable, "-m", "chain429"]


async def start_demo(
    cwd: Path,
    args: tuple[str, ...] = ("--no-traffic",),
    *,
    command: Sequence[str] = COMMAND,
    env: Mapping[str, str] | None = None,
) -> tuple[asyncio.subprocess.Process, str]:
    """`429chain demo` on a free port (without its own traffic unless `args` say otherwise),
    and its whole banner once printed. `command` runs 429chain (this checkout's by default),
    in `env` (this process's by default)."""
    process = await asyncio.create_subprocess_exec(
        *command,
        "demo",
        "--port",
        "0",
        *args,
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert process.stdout is not None
    seen = ""
    async with asyncio.timeout(30):
        while not seen.endswith("\nPY\n"):  # the banner's last line
            line = await process.stdout.readline()
            if not line:
                raise AssertionError(f"the demo exited early:\n{seen}")
            seen += line.decode()
    return process, seen


async def stop_demo(process: asyncio.subprocess.Process) -> str:
    process.send_signal(signal.SIGINT)
    async with asyncio.timeout(30):
        output, _ = await process.communicate()
    assert process.returncode == 0, output.decode()
    return output.decode()


def shown(banner: str, label: str) -> str:
    """What the banner shows for `label` (`dashboard`, `admin key`, ...): its first word."""
    found = re.search(rf"^  {label} +(\S+)", banner, re.MULTILINE)
    assert found is not None, f"no {label} in:\n{banner}"
    return found.group(1)
