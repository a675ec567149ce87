"""One run of `429chain serve` that pushes known keys through every path, and everything it
left behind, sorted by where it went: logs, database, and each kind of API answer.

Fake upstreams echo the key they were sent (see `leaky_upstream`); the providers and chains
are built so that each echo reaches the proxy both on a chain of its own (the client gets the
error) and in front of a healthy fallback (the client gets an answer, the echo only reaches
attempts, cooldowns and logs).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from chain429.admin.access import RouteKind, route_kind
from chain429.config.schema import Config
from chain429.tasks import create_task
from tests.support.leaky_upstream import (
    SECRET_HEADER,
    echo_bad_json,
    echo_error,
    echo_in_band,
    echo_in_limit_headers,
    echo_plain,
)
from tests.support.polling import eventually
from tests.support.proxy import make_config
from tests.support.serve_process import serving
from tests.support.upstream import (
    Behaviour,
    FakeUpstream,
    closed_port_url,
    cut_body,
    hang,
    ok,
    sse,
)
from tests.support.usage_db import query, request_log, usage_settings

PROVIDER_SECRET = "sk-live-SECRETabcdef12ab34cd56ef"
SECOND_SECRET = "gsk_SECRETqrstuvwx98yz76ab54cd"
CLIENT_SECRET = "client-SECRET-key-mnop4321qrst"
ADMIN_SECRET = "adm-SECRET-admin-key-ghij8765klmn"
#: Sent in a provider's `headers` (`api-key`, as Azure takes its key), echoed like the keys.
HEADER_SECRET = "hdr-SECRET-azure-value-wxyz2468"
SECRETS = (PROVIDER_SECRET, SECOND_SECRET, CLIENT_SECRET, ADMIN_SECRET, HEADER_SECRET)
#: Not a key, a marker: the key a route takes (an admin key for management routes).
ITS_KEY = "its key"
FRAGMENT = 8

SCENARIOS: dict[str, Callable[[], Behaviour]] = {
    "served": ok,
    "e400": lambda: echo_error(400),
    "e401": lambda: echo_error(401),
    "e402": lambda: echo_error(402),
    "e404": lambda: echo_error(404),
    "e429": lambda: echo_error(429, **{"retry-after": "30"}),
    "e500": lambda: echo_error(500),
    "e503-text": lambda: echo_plain(503),
    "bad-json": echo_bad_json,
    "in-band": echo_in_band,
    "limit-headers": echo_in_limit_headers,
    "mid-stream": lambda: sse(drop_after=2),
    "cut-body": cut_body,
    "hang": hang,
}
REFUSED = "refused"
GROQ_TYPED = ("limit-headers",)
#: The outcomes the scenarios must produce, so that every path was taken.
EXPECTED_OUTCOMES = frozenset(
    {"served", "rejected", "auth_failed", "payment_required", "not_found", "rate_limited"}
    | {"server_error", "bad_response", "in_band_error", "mid_stream_failure", "timeout"}
    | {"connect_error", "skipped"}
)


def fragments(secret: str) -> set[str]:
    return {secret[i : i + FRAGMENT] for i in range(len(secret) - FRAGMENT + 1)}


def leaks(sources: dict[str, bytes]) -> list[str]:
    """Each source holding a piece of a secret, with the first piece found and its context."""
    found = []
    for source, data in sources.items():
        for piece in sorted(p for s in SECRETS for p in fragments(s)):
            at = data.find(piece.encode())
            if at != -1:
                found.append(f"{source}: {piece!r} in {data[max(0, at - 80) : at + 80]!r}")
                break
    return found


@dataclass
class Capture:
    """What one run left behind. `answers` is keyed by kind: `json` and `sse` for the OpenAI
    endpoints (by the answer's content type), `test` for the test routes and the providers'
    model lists, `ratelimits` and `api` for the rest, and `events` for the whole `/api/events`
    stream of the run."""

    logs: dict[str, bytes] = field(default_factory=dict)
    database_files: dict[str, bytes] = field(default_factory=dict)
    usage_tables: bytes = b""
    limit_state: bytes = b""
    answers: dict[str, dict[str, bytes]] = field(default_factory=dict)
    outcomes: set[str] = field(default_factory=set)
    upstream_keys: set[str] = field(default_factory=set)

    def all_sources(self) -> dict[str, bytes]:
        every = {**self.logs, **self.database_files}
        for kind, answers in self.answers.items():
            every |= {f"{kind} {name}": body for name, body in answers.items()}
        return every


def build_config(urls: dict[str, str], fallback: str, db: Path) -> Config:
    """Per scenario: a chain of its entry alone (its provider also sends `HEADER_SECRET` in a
    header), and a `-fb` chain with a second provider on the same upstream (two keys) in front
    of a healthy fallback."""
    providers = [("fallback", fallback)]
    extra: dict[str, dict[str, Any]] = {"fallback": {"apiKey": PROVIDER_SECRET}}
    chains: dict[str, list[tuple[str, str]]] = {}
    for name, url in urls.items():
        providers += [(name, url), (f"{name}-2", url)]
        extra[name] = {
            "apiKey": PROVIDER_SECRET,
            "timeout": 300,
            "headers": {SECRET_HEADER: HEADER_SECRET, "X-Title": "leaks"},
        }
        extra[f"{name}-2"] = {
            "apiKey": SECOND_SECRET,
            "apiKeys": [SECOND_SECRET, PROVIDER_SECRET],
            "timeout": 300,
        }
        chains[name] = [(name, "m")]
        chains[f"{name}-fb"] = [(f"{name}-2", "m"), ("fallback", "m")]
    return make_config(
        providers,
        chain=[("fallback", "m")],
        extra_chains=chains,
        provider_extra=extra,
        provider_types={p: "groq" for name in GROQ_TYPED for p in (name, f"{name}-2")},
        settings=usage_settings(
            db, apiKeys=[CLIENT_SECRET], adminKeys=[ADMIN_SECRET], logLevel="debug"
        ),
    )


class Recorder:
    """Sends requests and API calls to the proxy, keeping every answer's status, headers and
    body by kind."""

    def __init__(self, http: aiohttp.ClientSession, url: str) -> None:
        self.http, self.url = http, url
        self.answers: dict[str, dict[str, bytes]] = {}
        self.request_ids: set[str] = set()

    async def call(
        self,
        method: str,
        path: str,
        *,
        json: object = None,
        data: bytes | None = None,
        key: str | None = ITS_KEY,
    ) -> None:
        if key == ITS_KEY:
            management = route_kind(path.partition("?")[0]) is RouteKind.MANAGEMENT
            key = ADMIN_SECRET if management else CLIENT_SECRET
        headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
        async with self.http.request(
            method, f"{self.url}{path}", json=json, data=data, headers=headers
        ) as response:
            body = await response.read()
            if "X-Request-Id" in response.headers:
                self.request_ids.add(response.headers["X-Request-Id"])
            head = "".join(f"{k}: {v}\n" for k, v in response.headers.items())
            answer = f"{response.status}\n{head}\n".encode() + body
            kind = _kind(path, response.content_type)
        answers = self.answers.setdefault(kind, {})
        answers[f"{method} {path} #{len(answers)}"] = answer

    async def chat(self, model: str, *, stream: bool, content: str = "hi") -> None:
        body = {"model": model, "messages": [{"role": "user", "content": content}]}
        await self.call("POST", "/v1/chat/completions", json={**body, "stream": stream})


def _kind(path: str, content_type: str) -> str:
    if path.startswith(("/v1/chat/", "/v1/completions")):
        return "sse" if content_type == "text/event-stream" else "json"
    if path.startswith(("/api/test", "/v1/test/")) or path.endswith("/models"):
        return "test" if path != "/v1/models" else "api"
    return "ratelimits" if "ratelimits" in path else "api"


async def send_everything(recorder: Recorder, chains: list[str]) -> None:
    """Each chain three times (JSON, stream, JSON: the third finds what the first two left),
    then requests that carry a key where none belongs, and refused ones."""
    for chain in chains:
        for stream in (False, True, False):
            await recorder.chat(chain, stream=stream)
    await recorder.chat(PROVIDER_SECRET, stream=False)
    await recorder.chat(f"served/{PROVIDER_SECRET}", stream=True)
    await recorder.chat("default", stream=True, content=f"my key is {SECOND_SECRET}")
    await recorder.call("POST", "/v1/completions", json={"model": "e401", "prompt": "x"})
    await recorder.call("POST", "/v1/completions", json={"model": "e500-fb", "prompt": "x"})
    await recorder.call("POST", "/v1/chat/completions", json={"model": "x"}, key=PROVIDER_SECRET)
    await recorder.call("GET", "/v1/models", key=f"{CLIENT_SECRET}x")
    await recorder.call("GET", "/api/ratelimits", key=None)
    bad = f'{{"model": "{PROVIDER_SECRET}", "messages": "{CLIENT_SECRET}"'.encode()
    await recorder.call("POST", "/v1/chat/completions", data=bad)
    await recorder.call("POST", "/v1/chat/completions", json={"model": 1, "x": SECOND_SECRET})


async def read_every_api(recorder: Recorder, config: Config) -> None:
    paths = ["/health", "/v1/models", "/metrics", "/v1/ratelimits", "/api/ratelimits"]
    paths += ["/v1/stats/summary", "/v1/stats/providers", "/v1/stats/chains"]
    paths += [f"/v1/stats/providers/{p.id}" for p in config.providers]
    paths += [f"/v1/stats/chains/{c.name}" for c in config.chains]
    paths += ["/v1/stats/requests?limit=1000"]
    paths += ["/api/config", "/api/providers", "/v1/admin/config"]
    paths += [f"/api/providers/{p.id}" for p in config.providers]
    for group in ("none", "provider", "chain", "model", "key"):
        paths += [
            f"/api/stats/totals?groupBy={group}",
            f"/api/stats/series?groupBy={group}&bucket=minute",
            f"/api/stats/outcomes?groupBy={group}",
        ]
    paths += ["/api/stats/requests?limit=1000", "/api/stats/requests?status=error"]
    paths += ["/api/stats/totals?groupBy=secret", "/v1/stats/requests?limit=-1"]
    paths += ["/v1/stats/providers/nobody", "/api/stats/series?bucket=minute&from=0"]
    for path in paths:
        await recorder.call("GET", path)


async def try_every_test_route(recorder: Recorder, config: Config) -> None:
    """Each chain through `/api/test` (whole and streamed) and the three probe routes, and
    each provider's model list (the upstreams echo the key there too)."""
    for chain in config.chains:
        for stream in (False, True):
            await recorder.call("POST", "/api/test", json={"chain": chain.name, "stream": stream})
        for force in (False, True):
            await recorder.call("POST", f"/api/test/chain/{chain.name}", json={"force": force})
        await recorder.call("POST", f"/v1/test/chain/{chain.name}")
    for provider in config.providers:
        await recorder.call("GET", f"/api/providers/{provider.id}/models")


def database_files(db: Path, when: str) -> dict[str, bytes]:
    """The database file with its `-wal` and `-shm`, byte for byte."""
    return {
        f"{when} {path.name}": path.read_bytes()
        for path in sorted(db.parent.glob(db.name + "*"))
        if path.is_file()
    }


async def recorded_outcomes(recorder: Recorder) -> set[str]:
    """Every attempt outcome, once every answered request is in the request log."""

    async def every_request_logged() -> list[dict[str, Any]] | None:
        rows = await request_log(recorder.http, recorder.url, key=ADMIN_SECRET)
        return rows if recorder.request_ids <= {r["requestId"] for r in rows} else None

    rows = await eventually(
        every_request_logged, timeout=10, what="every request logged", interval=0.05
    )
    return {a["outcome"] for r in rows for a in r["attempts"]}


@asynccontextmanager
async def event_stream_read(url: str) -> AsyncIterator[bytearray]:
    """Every byte `/api/events` sends from now until the proxy ends the stream (its own
    session: the stream outlives the run's requests and ends at shutdown)."""
    received = bytearray()
    opened = asyncio.Event()

    async def read() -> None:
        headers = {"Authorization": f"Bearer {ADMIN_SECRET}"}
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{url}/api/events", headers=headers) as response:
                assert response.status == 200, await response.text()
                opened.set()
                async for chunk in response.content.iter_any():
                    received.extend(chunk)

    reader = create_task(read(), name="event-stream-reader")
    await eventually(lambda: opened.is_set() or reader.done(), what="/api/events open")
    try:
        yield received
    finally:
        await asyncio.wait_for(reader, 10)


async def start_upstreams() -> tuple[dict[str, FakeUpstream], dict[str, str], str]:
    upstreams = {
        n: await FakeUpstream([make()], models=[make()]).start() for n, make in SCENARIOS.items()
    }
    upstreams["fallback"] = await FakeUpstream([ok()]).start()
    urls = {name: upstream.base_url for name, upstream in upstreams.items()}
    fallback = urls.pop("fallback")
    urls[REFUSED] = closed_port_url()
    return upstreams, urls, fallback


async def run_everything(directory: Path, log_format: str) -> Capture:
    """Start upstreams and `429chain serve`, send everything, read every API, stop with
    SIGTERM, and collect what was left behind."""
    upstreams, urls, fallback = await start_upstreams()
    db = directory / "u.db"
    config = build_config(urls, fallback, db)
    capture = Capture()
    try:
        async with (
            serving(config, directory, log_format=log_format) as proxy,
            event_stream_read(proxy.url) as events,
        ):
            async with aiohttp.ClientSession() as http:
                recorder = Recorder(http, proxy.url)
                await send_everything(recorder, [c.name for c in config.chains])
                capture.outcomes = await recorded_outcomes(recorder)
                await read_every_api(recorder, config)
                await try_every_test_route(recorder, config)
            await eventually(
                lambda: b"event: limits\n" in events, timeout=10, what="a limits event"
            )
            capture.database_files = database_files(db, "running")
            code = await proxy.stop()
            assert code == 0, proxy.output()
            capture.database_files |= database_files(db, "stopped")
            capture.logs = {
                "stdout": proxy.stdout.read_bytes(),
                "stderr": proxy.stderr.read_bytes(),
            }
    finally:
        for upstream in upstreams.values():
            await upstream.stop()
    capture.answers = {**recorder.answers, "events": {"GET /api/events": bytes(events)}}
    capture.upstream_keys = {
        h.get(name, "")
        for u in upstreams.values()
        for h in u.headers_seen
        for name in ("Authorization", SECRET_HEADER)
    }
    tables = [query(db, f"SELECT * FROM {t}") for t in ("requests", "attempts")]
    capture.usage_tables = repr(tables).encode()
    capture.limit_state = repr(query(db, "SELECT * FROM limit_state")).encode()
    return capture
