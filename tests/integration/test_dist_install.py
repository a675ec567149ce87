"""The wheel as users install it. Built from a copy of the checkout (as `make dist` does), it
is installed with pip into a fresh virtualenv in a temporary directory, offline, from the
wheelhouse of locked dependency versions that `make setup` keeps, with no Node.js on the PATH.
From that virtualenv:

- `429chain demo` serves the dashboard, the OpenAPI document and a chat completion;
- the command the container image runs (the Dockerfile's ENTRYPOINT and CMD, with its ENV) runs
  as a user without privileges, against a read-only config and a data directory standing in for
  the image's mounts: it serves a completion, says its config is read-only, passes the image's
  HEALTHCHECK command and stops within the shutdown grace on SIGTERM. Two of the image's values
  are changed for the test: it listens on 127.0.0.1 (tests touch nothing beyond the loopback)
  on a free port, instead of 0.0.0.0:3429.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import openai
import orjson
import pytest

from tests.support.demo_process import shown, start_demo, stop_demo
from tests.support.dockerfile import (
    environment,
    final_stage,
    healthcheck_command,
    image_command,
    read_dockerfile,
)
from tests.support.package_build import ROOT, build, copy_checkout
from tests.support.proxy import ADMIN_KEY, CLIENT_KEY
from tests.support.serve_process import listening_url
from tests.support.upstream import ok

WHEELHOUSE = ROOT / ".venv" / "wheelhouse"
GRACE_MS = 3_000
START_TIMEOUT_S = 60.0

pytestmark = pytest.mark.timeout(900)


@dataclass(frozen=True)
class Installed:
    venv: Path
    work: Path

    def command(self, name: str) -> str:
        return str(self.venv / "bin" / name)

    def environment(self, **extra: str) -> dict[str, str]:
        """A bare environment: the virtualenv's bin alone on the PATH (no Node.js, nothing of
        this checkout's), a home of its own."""
        home = self.work / "home"
        home.mkdir(exist_ok=True)
        home.chmod(0o777)
        return {"PATH": str(self.venv / "bin"), "HOME": str(home), "LANG": "C.UTF-8", **extra}


@pytest.fixture(scope="module")
def installed() -> Iterator[Installed]:
    if not (WHEELHOUSE.is_dir() and any(WHEELHOUSE.glob("*.whl"))):
        pytest.fail(f"no wheelhouse at {WHEELHOUSE}: make setup builds it")
    if shutil.which("npm") is None:
        pytest.fail("building the wheel needs npm here (make setup installs the dashboard's)")
    # Not under pytest's tmp_path: the user without privileges must be able to reach it.
    work = Path(tempfile.mkdtemp(prefix="429chain-dist-"))
    work.chmod(0o755)
    try:
        wheel, _ = build("wheel", copy_checkout(work / "checkout"), work / "wheel")
        venv = work / "venv"
        subprocess.run([_interpreter(), "-m", "venv", str(venv)], check=True, timeout=120)
        pip = [str(venv / "bin" / "pip"), "--isolated", "--disable-pip-version-check"]
        subprocess.run(
            [*pip, "install", "--quiet", "--no-index", "--find-links", str(WHEELHOUSE), str(wheel)],
            check=True,
            timeout=600,
        )
        assert shutil.which("node", path=str(venv / "bin")) is None
        yield Installed(venv, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _interpreter() -> str:
    """A Python every user can run: this one, unless it lives where others cannot reach (a
    pyenv under /root), then the system's."""
    for candidate in (sys._base_executable, "/usr/bin/python3"):
        path = Path(candidate).resolve()
        if path.is_file() and all(parent.stat().st_mode & stat.S_IXOTH for parent in path.parents):
            return str(path)
    pytest.fail("no Python reachable by every user (for the non-root run): install python3")


async def test_the_demo_serves_the_dashboard_the_api_and_a_completion(
    installed: Installed, http: aiohttp.ClientSession
) -> None:
    cwd = installed.work / "demo"
    cwd.mkdir()
    process, banner = await start_demo(
        cwd, command=[installed.command("429chain")], env=installed.environment()
    )
    try:
        dashboard = shown(banner, "dashboard")
        async with http.get(dashboard) as page:
            assert page.status == 200
            assert '<div id="root">' in await page.text()
        async with http.get(f"{dashboard}api/openapi.json") as document:
            assert document.status == 200
            assert (await document.json())["openapi"].startswith("3.")
        client = openai.AsyncOpenAI(
            base_url=shown(banner, "OpenAI base URL"), api_key=shown(banner, "API key")
        )
        async with client:
            answer = await client.chat.completions.create(
                model="default", messages=[{"role": "user", "content": "Hello"}]
            )
        assert answer.choices[0].message.content
    finally:
        await stop_demo(process)


async def test_the_image_command_runs_unprivileged_with_a_read_only_config(
    installed: Installed, http: aiohttp.ClientSession, upstream_factory
) -> None:
    instructions = read_dockerfile(ROOT / "Dockerfile")
    image_env = environment(final_stage(instructions))
    upstream = await upstream_factory(ok("from the image"))
    config_dir, data_dir = installed.work / "config", installed.work / "data"
    config_dir.mkdir()
    data_dir.mkdir()
    config_file = config_dir / "config.yaml"
    config_file.write_bytes(orjson.dumps(_config(upstream.base_url)))
    config_file.chmod(0o444)
    config_dir.chmod(0o555)  # a read-only mount
    run_as = _unprivileged(data_dir)
    port = _free_port()
    env = installed.environment(
        **{
            **image_env,
            "CHAIN429_CONFIG": str(config_file),
            "CHAIN429_DB_PATH": str(data_dir / Path(image_env["CHAIN429_DB_PATH"]).name),
            "CHAIN429_HOST": "127.0.0.1",
            "CHAIN429_PORT": str(port),
        }
    )
    command = [installed.command(image_command(instructions)[0]), *image_command(instructions)[1:]]
    process = await asyncio.create_subprocess_exec(
        *command,
        env=env,
        cwd=data_dir,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        **run_as,
    )
    try:
        url = await _listening(process)
        assert url == f"http://127.0.0.1:{port}"
        health = healthcheck_command(instructions)
        checker = await asyncio.create_subprocess_exec(
            installed.command(health[0]),
            *health[1:],
            env=env,
            cwd=data_dir,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            **run_as,
        )
        async with asyncio.timeout(60):
            said, _ = await checker.communicate()
        assert (checker.returncode, said.decode().strip()) == (0, "healthy"), said

        admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
        async with http.get(f"{url}/api/settings/fields", headers=admin) as fields:
            about = await fields.json()
        assert about["writable"] is False
        assert "read-only" in about["readOnlyReason"]
        change = {"queueMode": True}
        async with http.patch(f"{url}/api/settings", json=change, headers=admin) as refused:
            assert refused.status == 409
            assert "mount it without ':ro'" in (await refused.json())["error"]["message"]

        async with openai.AsyncOpenAI(base_url=f"{url}/v1", api_key=CLIENT_KEY) as client:
            answer = await client.chat.completions.create(
                model="default", messages=[{"role": "user", "content": "Hello"}]
            )
        assert answer.choices[0].message.content == "from the image"

        database = data_dir / "429chain.db"
        assert database.is_file()
        if run_as:
            assert database.stat().st_uid != 0
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(GRACE_MS / 1000 + 10):
            output, _ = await process.communicate()
    assert process.returncode == 0, output.decode()


def _config(base_url: str) -> dict[str, object]:
    return {
        "version": 1,
        "settings": {
            "apiKeys": [CLIENT_KEY],
            "adminKeys": [ADMIN_KEY],
            "defaultChain": "default",
            "shutdownGraceMs": GRACE_MS,
        },
        "providers": [
            {"id": "local", "type": "generic-openai", "baseUrl": base_url, "apiKey": "k-local"}
        ],
        "chains": [{"name": "default", "entries": [{"provider": "local", "model": "m"}]}],
    }


def _unprivileged(data_dir: Path) -> dict[str, object]:
    """As root: run as `nobody`, owner of the data directory (the image's user owns /data).
    Not root: already without privileges."""
    if os.geteuid() != 0:
        data_dir.chmod(0o700)
        return {}
    shutil.chown(data_dir, "nobody", "nogroup")
    return {"user": "nobody", "group": "nogroup", "extra_groups": []}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def _listening(process: asyncio.subprocess.Process) -> str:
    assert process.stdout is not None
    seen = ""
    async with asyncio.timeout(START_TIMEOUT_S):
        while (url := listening_url(seen)) is None:
            line = await process.stdout.readline()
            if not line:
                raise AssertionError(f"the image's command exited early:\n{seen}")
            seen += line.decode()
    return url
