"""schemathesis against `/api/openapi.json` of a running proxy, with an admin key: over every
operation of the document (the writes too: the proxy runs from a config file they save to), no
5xx and no answer that the document does not describe (status, content type, headers, body
schema), and every undeclared method a 405 with `Allow`.

Bounded and stable: a fixed number of examples per operation, generated deterministically, one
worker; the run takes a few seconds. Operations that answer with an event stream are left
out: a stream does not end by itself, so each request would only time out.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import orjson

from tests.support.client import send
from tests.support.config_file import start_file_proxy
from tests.support.proxy import make_config
from tests.support.serve_process import config_document
from tests.support.upstream import model_list, ok

ADMIN_KEY = "adm-fuzz-admin-key-0001"
MAX_EXAMPLES = 30
RUN_TIMEOUT_S = 120.0
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "unsupported_method",
)


def streamed_operations(document: dict) -> list[str]:
    return [
        operation["operationId"]
        for methods in document["paths"].values()
        for operation in methods.values()
        if any(
            set(answer.get("content", {})) == {"text/event-stream"}
            for answer in operation["responses"].values()
        )
    ]


async def test_the_api_holds_to_its_document(
    upstream_factory, proxy_factory, http, tmp_path: Path
) -> None:
    # A working upstream: a 5xx that only says an upstream is down is no bug of the API's.
    upstream = await upstream_factory(ok())
    upstream.models = [model_list("m1", "m2")]
    config = make_config(
        [("a", upstream.base_url), ("b", upstream.base_url)],
        settings={"adminKeys": [ADMIN_KEY], "recordUsage": True, "dbPath": str(tmp_path / "u.db")},
        extra_chains={"fast": [("b", "m2")]},
    )
    # Run from a config file, as `serve` does, so the writes are fuzzed too (they save to it).
    path = tmp_path / "429chain.yaml"
    path.write_bytes(orjson.dumps(config_document(config)))
    server = await start_file_proxy(proxy_factory, path)
    document = (await send(http, server, "/api/openapi.json", method="GET", key=None)).json()
    excluded = [
        arg for op in streamed_operations(document) for arg in ("--exclude-operation-id", op)
    ]
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{server.url}/api/openapi.json",
        "--header",
        f"Authorization: Bearer {ADMIN_KEY}",
        "--checks",
        ",".join(CHECKS),
        "--max-examples",
        str(MAX_EXAMPLES),
        "--generation-deterministic",
        "--workers",
        "1",
        "--request-timeout",
        "10",
        "--no-color",
        *excluded,
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), RUN_TIMEOUT_S)
    report = output.decode(errors="replace")
    assert process.returncode == 0, report
    operations = sum(len(methods) for methods in document["paths"].values())
    assert f"Tested: {operations - len(excluded) // 2}" in report, report
