"""`429chain serve` as a child process, the way a user runs it: for tests of signals, restarts
and what the process writes to its terminal.

The config is written as JSON (which is YAML) with `port: 0`; the URL is read from the banner.
stdout and stderr go to files in the test's directory, so a test can grep them afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson

from chain429.config.schema import Config
from tests.support.polling import eventually

START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 30.0
#: What coverage's `patch = subprocess` sets for child processes to measure themselves.
_COVERAGE_VARIABLES = frozenset({"COVERAGE_PROCESS_CONFIG", "COVERAGE_PROCESS_START"})
_BANNER = re.compile(r"429chain listening on (http://\S+)")


@dataclass
class ServeProcess:
    process: asyncio.subprocess.Process
    url: str
    stdout: Path
    stderr: Path

    def output(self) -> str:
        """Everything the process printed so far, stdout then stderr."""
        return self.stdout.read_text(encoding="utf-8") + self.stderr.read_text(encoding="utf-8")

    def signal_group(self, signum: int) -> None:
        """Send `signum` to the process and its children (its own process group), as a
        terminal's Ctrl-C or a service manager's stop does."""
        os.killpg(self.process.pid, signum)

    async def stop(self, signum: int = signal.SIGTERM, timeout: float = STOP_TIMEOUT_S) -> int:
        """Send `signum` and wait for the exit code."""
        self.process.send_signal(signum)
        return await self.wait(timeout)

    async def wait(self, timeout: float = STOP_TIMEOUT_S) -> int:
        """The exit code, once the process has ended by itself."""
        return await asyncio.wait_for(self.process.wait(), timeout)


def config_document(config: Config, **settings: Any) -> dict[str, Any]:
    """`config` as the plain data a config file holds, with `settings` replaced."""
    data = config.model_dump(mode="json", by_alias=True, exclude_none=True)
    data["settings"] |= {"port": 0, **settings}
    return data


def _open_outputs(directory: Path, name: str) -> tuple[Path, Path, IO[bytes], IO[bytes]]:
    out, err = directory / f"{name}.stdout", directory / f"{name}.stderr"
    return out, err, out.open("wb"), err.open("wb")


async def start_serve(
    config: Config,
    directory: Path,
    *,
    name: str = "serve",
    log_format: str = "console",
    coverage: bool = True,
    args: Sequence[str] = (),
) -> ServeProcess:
    """Start `python -m chain429 serve` on `config` and wait for its banner. Under `--cov` the
    process is measured too, unless `coverage` is false: a test that measures the process
    itself (its memory, its speed) wants it without the collector. `args` are more options
    of `serve`."""
    config_path = directory / f"{name}.yaml"
    config_path.write_bytes(orjson.dumps(config_document(config)))
    out, err, out_file, err_file = _open_outputs(directory, name)
    with out_file, err_file:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "chain429",
            "serve",
            "--config",
            str(config_path),
            "--log-format",
            log_format,
            *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=out_file,
            stderr=err_file,
            cwd=directory,
            start_new_session=True,  # a group of its own, for `signal_group`
            env=None if coverage else _without_coverage(os.environ),
        )
    try:
        url = await _banner_url(process, out, err)
    except BaseException:
        await _kill(process)
        raise
    return ServeProcess(process, url, out, err)


def _without_coverage(environ: Mapping[str, str]) -> dict[str, str]:
    return {name: value for name, value in environ.items() if name not in _COVERAGE_VARIABLES}


def listening_url(text: str) -> str | None:
    """The URL the banner names: the console banner's, or the JSON log's `listening` line's."""
    found = _BANNER.search(text)
    if found:
        return found.group(1)
    complete = text[: text.rfind("\n") + 1]
    for line in complete.splitlines():
        if '"listening"' in line and (event := orjson.loads(line)).get("event") == "listening":
            return str(event["url"])
    return None


async def _banner_url(process: asyncio.subprocess.Process, out: Path, err: Path) -> str:
    def url_unless_exited() -> str | None:
        found = listening_url(out.read_text(encoding="utf-8") + err.read_text(encoding="utf-8"))
        if not found and process.returncode is not None:
            raise AssertionError(
                f"429chain serve exited with {process.returncode}:\n"
                + err.read_text(encoding="utf-8")
            )
        return found

    return await eventually(
        url_unless_exited, timeout=START_TIMEOUT_S, what="the listening banner", interval=0.02
    )


async def _kill(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()


@contextlib.asynccontextmanager
async def serving(
    config: Config,
    directory: Path,
    *,
    name: str = "serve",
    log_format: str = "console",
    coverage: bool = True,
    args: Sequence[str] = (),
) -> AsyncIterator[ServeProcess]:
    """`start_serve`, killed on the way out if the test did not stop it."""
    proxy = await start_serve(
        config, directory, name=name, log_format=log_format, coverage=coverage, args=args
    )
    try:
        yield proxy
    finally:
        await _kill(proxy.process)
