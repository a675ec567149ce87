"""The dashboard as the proxy serves it: `index.html` for `/` and every page path (never
cached), the hashed assets (cached for a year), no key needed, nothing outside the build, and
the API's and the proxy's unknown paths still 404s in the OpenAI shape."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from chain429.app import AppOptions
from chain429.server import RunningServer
from tests.support.client import send
from tests.support.proxy import ADMIN_KEY, CLIENT_KEY, make_config

INDEX = b"<!doctype html><title>429chain</title><div id=root></div>"
SCRIPT = b"console.log('dashboard');"
SCRIPT_NAME = "index-Ab12_cd.js"
SECRET = b"a file next to the build that must never be served"
LONG_CACHE = "public, max-age=31536000, immutable"


@pytest.fixture
def web_root(tmp_path: Path) -> Path:
    """A build: index.html, one hashed script, one plain file; a secret file beside it."""
    root = tmp_path / "web"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_bytes(INDEX)
    (root / "assets" / SCRIPT_NAME).write_bytes(SCRIPT)
    (root / "favicon.svg").write_bytes(b"<svg/>")
    (tmp_path / "secret.txt").write_bytes(SECRET)
    return root


@pytest.fixture
async def served(proxy_factory, web_root: Path) -> RunningServer:
    config = make_config([("a", "http://127.0.0.1:9/v1")], admin=True)
    return await proxy_factory(config, AppOptions(web_root=web_root))


async def test_the_root_is_index_html_never_cached_and_needs_no_key(served, http) -> None:
    answer = await send(http, served, "/", method="GET", key=None)
    assert answer.status == 200
    assert answer.body == INDEX
    assert answer.headers["Content-Type"].startswith("text/html")
    assert answer.headers["Cache-Control"] == "no-cache"


async def test_a_hashed_asset_is_cached_for_a_year(served, http) -> None:
    answer = await send(http, served, f"/assets/{SCRIPT_NAME}", method="GET", key=None)
    assert answer.status == 200
    assert answer.body == SCRIPT
    assert answer.headers["Content-Type"].endswith("javascript")
    assert answer.headers["Cache-Control"] == LONG_CACHE


@pytest.mark.parametrize("path", ["/limits", "/providers/groq/edit", "/healthz", "/apis?x=1"])
async def test_a_page_path_falls_back_to_index_html(served, http, path: str) -> None:
    answer = await send(http, served, path, method="GET", key=None)
    assert answer.status == 200
    assert answer.body == INDEX
    assert answer.headers["Cache-Control"] == "no-cache"


async def test_a_file_at_the_root_of_the_build_is_served_as_it_is(served, http) -> None:
    answer = await send(http, served, "/favicon.svg", method="GET", key=None)
    assert (answer.status, answer.body) == (200, b"<svg/>")
    assert answer.headers["Cache-Control"] == "no-cache"


async def test_head_answers_like_get_without_a_body(served, http) -> None:
    answer = await send(http, served, "/requests", method="HEAD", key=None)
    assert answer.status == 200 and answer.body == b""
    assert answer.headers["Cache-Control"] == "no-cache"


@pytest.mark.parametrize(
    ("path", "key"),
    [
        ("/assets/missing-Ab12.js", None),
        ("/assets/nested/x.js", None),
        ("/api/no-such-route", ADMIN_KEY),
        ("/api", ADMIN_KEY),
        ("/v1/no-such-route", CLIENT_KEY),
        ("/health/x", None),
        ("/metrics/x", None),
    ],
)
async def test_unknown_paths_outside_the_pages_are_openai_shaped_404s(
    served, http, path: str, key: str | None
) -> None:
    answer = await send(http, served, path, method="GET", key=key)
    assert answer.status == 404, answer.body
    assert answer.error["code"] == "unknown_url"


async def test_a_proxy_route_under_another_method_is_still_a_405(served, http) -> None:
    answer = await send(http, served, "/v1/chat/completions", method="GET", key=CLIENT_KEY)
    assert answer.status == 405
    assert answer.error["code"] == "method_not_allowed"


async def test_the_dashboard_only_reads(served, http) -> None:
    answer = await send(http, served, "/limits", {"x": 1}, method="POST", key=None)
    assert answer.status == 405
    assert answer.body != INDEX


@pytest.mark.parametrize(
    "path",
    [
        "/assets/..%2F..%2Fsecret.txt",
        "/assets/%2e%2e%2f%2e%2e%2fsecret.txt",
        "/assets/..",
        "/..%2Fsecret.txt",
        "/%2e%2e/secret.txt",
        "/.%2E/.%2E/secret.txt",
        "/assets/.hidden",
    ],
)
async def test_no_path_leaves_the_build(served, http, path: str) -> None:
    answer = await send(http, served, path, method="GET", key=None)
    assert SECRET not in answer.body
    assert answer.status in (200, 404), answer.status
    if answer.status == 200:
        assert answer.body == INDEX


@pytest.mark.parametrize(
    "target", ["/../secret.txt", "/assets/../../secret.txt", "/x/../../secret.txt"]
)
async def test_no_raw_dot_segment_leaves_the_build(served, target: str) -> None:
    """Sent as written (HTTP clients would resolve the dots before sending)."""
    reader, writer = await asyncio.open_connection(served.host, served.port)
    writer.write(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    answer = await reader.read()
    writer.close()
    await writer.wait_closed()
    assert SECRET not in answer
    assert int(answer.split(b" ", 2)[1]) in (200, 400, 404), answer[:200]


async def test_without_a_build_the_root_says_to_run_make_setup(
    proxy_factory, http, tmp_path: Path
) -> None:
    config = make_config([("a", "http://127.0.0.1:9/v1")])
    server = await proxy_factory(config, AppOptions(web_root=tmp_path / "not-built"))
    for path in ("/", "/limits"):
        answer = await send(http, server, path, method="GET", key=None)
        assert answer.status == 503
        assert answer.headers["Content-Type"].startswith("text/html")
        assert b"make setup" in answer.body
    missing = await send(http, server, "/assets/index-Ab12.js", method="GET", key=None)
    assert missing.status == 404
    health = await send(http, server, "/health", method="GET", key=None)
    assert health.status == 200
