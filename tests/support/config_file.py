"""A proxy run from a config FILE, as `429chain serve` runs it: management writes save to the
file and reloads read it. The file is written by hand, with comments, `${ENV}` references and
mixed styles, so tests can check that edits keep them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import aiohttp

from chain429.app import AppOptions
from chain429.config.load import load_config
from chain429.server import RunningServer
from tests.support.client import Answer, send
from tests.support.proxy import ADMIN_KEY, CLIENT_KEY

#: The environment variable the file's first provider takes its key from.
KEY_VARIABLE = "CHAIN429_TEST_A_KEY"
A_KEY = "sk-test-a-key-from-env-0000aaaa"
B_KEY = "sk-test-b-literal-key-0000bbbb"

CONFIG_TEMPLATE = """\
# 429chain: a hand-written config
version: 1
settings:
  apiKeys: [{client_key}]  # the clients
  adminKeys:
    - {admin_key}
  defaultChain: default
  recordUsage: false
  requestTimeoutMs: 5000
  streamIdleTimeoutMs: 2000

providers:
  # the first provider takes its key from the environment
  - id: a
    name: Provider A
    type: generic-openai
    apiKey: ${{{variable}}}  # never written out
    baseUrl: '{url}'
  - id: b
    type: "generic-openai"
    apiKey: {b_key}
    baseUrl: {url}

chains:
  - name: default
    entries:
      - {{provider: a, model: a-model}}
      - provider: b
        model: b-model  # the fallback
"""

ProxyFactory = Callable[..., Awaitable[RunningServer]]


def config_text(url: str) -> str:
    """The hand-written config, both providers at `url`."""
    return CONFIG_TEMPLATE.format(
        client_key=CLIENT_KEY, admin_key=ADMIN_KEY, variable=KEY_VARIABLE, url=url, b_key=B_KEY
    )


def write_config(directory: Path, url: str, *, state_store: str | None = None) -> Path:
    """The hand-written config at `url`, in `directory`; with `state_store`, its
    `settings.stateStore` (a replica of a fleet sharing that Redis)."""
    path = directory / "429chain.yaml"
    text = config_text(url)
    if state_store is not None:
        text = text.replace("settings:\n", f"settings:\n  stateStore: '{state_store}'\n", 1)
    path.write_text(text, encoding="utf-8")
    return path


async def start_file_proxy(
    proxy_factory: ProxyFactory, path: Path, options: AppOptions | None = None
) -> RunningServer:
    """A proxy serving the config at `path` and saving changes to it."""
    base = options or AppOptions()
    opts = AppOptions(
        clock=base.clock,
        sink=base.sink,
        upstream_factory=base.upstream_factory,
        events=base.events,
        config_path=path,
        config_files=base.config_files,
    )
    return await proxy_factory(load_config(path), opts)


async def api(
    http: aiohttp.ClientSession,
    server: RunningServer,
    method: str,
    path: str,
    body: Mapping[str, Any] | bytes | None = None,
    *,
    if_match: str | None = None,
    key: str | None = ADMIN_KEY,
) -> Answer:
    """One management API call with the admin key (and `If-Match`, when given)."""
    headers = {"If-Match": if_match} if if_match is not None else None
    return await send(http, server, path, body, method=method, key=key, headers=headers)
