"""What `429chain serve` writes to its terminal, read as a user (or a log shipper) reads it:
with `--log-format json` every line is one JSON object, the banner included; in the console
format every log line has one layout. Served requests, a client that leaves, and requests
refused before they reach a chain (400, 401, 413) each get one line, never with the body."""

from __future__ import annotations

import asyncio
import contextlib
import re
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from chain429.tasks import create_task
from tests.support.client import chat_body
from tests.support.polling import eventually
from tests.support.proxy import CLIENT_KEY, make_config
from tests.support.serve_process import ServeProcess, serving
from tests.support.upstream import hang, ok
from tests.support.usage_db import usage_settings

AUTH = {"Authorization": f"Bearer {CLIENT_KEY}"}
#: Written into every refused body: it must never reach the log.
BODY_MARK = "BODY-MARK-never-logged"
MAX_BODY = 4096
CONSOLE_LINE = re.compile(
    r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z (?:debug  |info   |warning|error  ) \S"
)


async def _post(
    http: aiohttp.ClientSession, url: str, body: bytes, headers: dict[str, str] = AUTH
) -> int:
    async with http.post(
        f"{url}/v1/chat/completions",
        data=body,
        headers={**headers, "Content-Type": "application/json"},
    ) as response:
        await response.read()
        return response.status


async def _leave_mid_request(http: aiohttp.ClientSession, proxy: ServeProcess, upstream) -> None:
    """Send a request the upstream never answers, and leave once it is upstream."""
    calls = upstream.calls
    task = create_task(_post(http, proxy.url, orjson.dumps(chat_body())), name="leaving")
    await eventually(lambda: upstream.calls > calls, timeout=10)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _requests_of_every_kind(proxy: ServeProcess, upstream) -> None:
    async with aiohttp.ClientSession() as http:
        assert await _post(http, proxy.url, orjson.dumps(chat_body())) == 200
        assert await _post(http, proxy.url, f'{{"messages": "{BODY_MARK}'.encode()) == 400
        wrong_key = {"Authorization": "Bearer not-a-client-key"}
        assert await _post(http, proxy.url, BODY_MARK.encode(), wrong_key) == 401
        too_large = orjson.dumps(chat_body(content=BODY_MARK * (MAX_BODY // len(BODY_MARK))))
        assert await _post(http, proxy.url, too_large) == 413
        await _leave_mid_request(http, proxy, upstream)


def _json_lines(proxy: ServeProcess) -> list[dict[str, Any]]:
    lines = [line for line in proxy.output().splitlines() if line]
    return [orjson.loads(line) for line in lines]  # raises on any line that is not JSON


async def test_json_logs_are_json_on_every_line(upstream_factory, tmp_path: Path):
    upstream = await upstream_factory(ok(), hang())
    settings = usage_settings(tmp_path / "u.db", maxBodyBytes=MAX_BODY)
    config = make_config([("a", upstream.base_url)], settings=settings)
    async with serving(config, tmp_path, log_format="json") as proxy:
        await _requests_of_every_kind(proxy, upstream)
        await eventually(lambda: '"client_closed":true' in proxy.output(), timeout=10)
        await proxy.stop()
    events = _json_lines(proxy)
    (listening,) = [e for e in events if e["event"] == "listening"]
    assert listening["url"] == proxy.url and listening["chains"] == {"default": ["a/a-model"]}
    requests = [e for e in events if e["event"] == "request"]
    assert [(r["status"], r["client_closed"]) for r in requests] == [(200, False), (499, True)]
    refused = {e["status"]: e for e in events if e["event"] == "request refused"}
    assert set(refused) == {400, 401, 413}
    assert "not valid JSON" in refused[400]["reason"]
    assert refused[401]["reason"] == "unknown API key"
    assert "settings.maxBodyBytes" in refused[413]["reason"]
    assert all(e["level"] == "info" for e in refused.values())
    assert BODY_MARK not in proxy.output()


async def test_console_log_lines_share_one_layout(upstream_factory, tmp_path: Path):
    upstream = await upstream_factory(ok(), ok(), hang())
    settings = usage_settings(tmp_path / "u.db", maxBodyBytes=MAX_BODY)
    config = make_config([("a", upstream.base_url)], settings=settings)
    async with serving(config, tmp_path, name="first") as first:
        async with aiohttp.ClientSession() as http:
            assert await _post(http, first.url, orjson.dumps(chat_body())) == 200
        await first.stop()
    async with serving(config, tmp_path, name="second") as proxy:
        await _requests_of_every_kind(proxy, upstream)
        await eventually(lambda: "client_closed" in proxy.stderr.read_text(), timeout=10)
        await proxy.stop()
    log = proxy.stderr.read_text().splitlines()
    assert [line for line in log if not CONSOLE_LINE.match(line)] == []
    assert any(" info    limit state restored " in line for line in log)
    assert any(" info    default -> a/a-model " in line and " 200 " in line for line in log)
    refused = [line for line in log if " info    request refused " in line]
    assert len(refused) == 3 and BODY_MARK not in proxy.output()
    (closed,) = [line for line in log if "client_closed" in line]
    assert "client_closed client_closed" not in closed, closed
    assert proxy.stdout.read_text().startswith(f"429chain listening on {proxy.url}\n")
