"""`python -m chain429.sim` serves the providers of a YAML file until interrupted."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import aiohttp

from tests.support.polling import eventually

CONFIG = """
providers:
  - name: alpha
    dialect: groq
    requestsPerWindow: 10
  - name: beta
    dialect: cerebras
"""


async def test_cli_prints_base_urls_and_serves_until_interrupted(tmp_path: Path) -> None:
    path = tmp_path / "sim.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "chain429.sim",
        "--config",
        str(path),
        "--port",
        "0",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        lines = [await asyncio.wait_for(process.stdout.readline(), 20) for _ in range(2)]
        urls = dict(line.decode().strip().split(": ", 1) for line in lines)
        assert set(urls) == {"alpha", "beta"}
        assert urls["alpha"].startswith("http://127.0.0.1:") and urls["alpha"].endswith("/alpha/v1")
        async with aiohttp.ClientSession() as http:
            async with http.get(urls["beta"] + "/models") as response:
                assert response.status == 200
                assert response.headers["x-sim-provider"] == "beta"
    finally:
        process.send_signal(signal.SIGINT)
        code = await asyncio.wait_for(process.wait(), 20)
    assert code == 0


async def test_cli_reports_an_invalid_config(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("providers:\n  - name: a\n    dialect: nope\n", encoding="utf-8")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "chain429.sim",
        "--config",
        str(path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(process.communicate(), 20)
    assert process.returncode == 2
    assert b"providers[0].dialect" in err


STREAMING = """
providers:
  - name: alpha
    dialect: groq
    ttftMs: 10
    interChunkMs: 100
"""


async def test_a_client_leaving_mid_stream_leaves_no_traceback(tmp_path: Path) -> None:
    path = tmp_path / "sim.yaml"
    path.write_text(STREAMING, encoding="utf-8")
    errors = tmp_path / "sim.stderr"
    with errors.open("wb") as err:
        process = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "chain429.sim", "--config", str(path), "--port", "0"),
            stdout=asyncio.subprocess.PIPE,
            stderr=err,
        )
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), 20)
        base_url = line.decode().strip().split(": ", 1)[1]
        body = {"model": "m", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
        async with aiohttp.ClientSession() as http:
            response = await http.post(f"{base_url}/chat/completions", json=body)
            assert (await response.content.readline()).startswith(b"data: ")
            response.close()  # leave mid-stream

            async def handled() -> bool:
                if "Traceback" in errors.read_text(encoding="utf-8"):
                    return True
                async with http.get(base_url.removesuffix("/v1") + "/_stats") as stats:
                    return (await stats.json()).get("client_disconnects") == 1

            await eventually(handled, timeout=10, what="the simulator noticed the client leave")
    finally:
        process.send_signal(signal.SIGINT)
        code = await asyncio.wait_for(process.wait(), 20)
    assert code == 0
    assert errors.read_text(encoding="utf-8") == ""
