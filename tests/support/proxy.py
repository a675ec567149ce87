"""Start a real proxy on 127.0.0.1 against given upstreams."""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Any

from chain429.app import AppOptions, create_app
from chain429.config.schema import Config
from chain429.runner import upstream_factory
from chain429.server import RunningServer, start_server
from chain429.upstream_http import AiohttpUpstream
from tests.support.configs import build_config, entries

CLIENT_KEY = "test-client-key-0001"
PROVIDER_KEY = "sk-test-provider-key-abcdef123456"


#: The admin key of configs made with `make_config(..., admin=True)`.
ADMIN_KEY = "adm-test-admin-key-0001"


def make_config(
    upstreams: list[tuple[str, str]],
    *,
    chain: list[tuple[str, str]] | None = None,
    settings: dict[str, Any] | None = None,
    provider_extra: dict[str, dict[str, Any]] | None = None,
    provider_type: str = "generic-openai",
    provider_types: dict[str, str] | None = None,
    extra_chains: dict[str, list[tuple[str, str]]] | None = None,
    admin: bool = False,
) -> Config:
    """A config with one generic provider per (id, base_url) and a `default` chain over them
    (or over `chain`). `provider_types` overrides the type of some providers; `extra_chains`
    adds chains by name; `admin` adds `ADMIN_KEY` to the admin keys (management writes on)."""
    providers = []
    for provider_id, url in upstreams:
        provider: dict[str, Any] = {
            "id": provider_id,
            "name": provider_id,
            "type": (provider_types or {}).get(provider_id, provider_type),
            "apiKey": PROVIDER_KEY,
            "baseUrl": url,
        }
        provider.update((provider_extra or {}).get(provider_id, {}))
        providers.append(provider)
    default = chain or [(provider_id, f"{provider_id}-model") for provider_id, _ in upstreams]
    chains = {"default": default, **(extra_chains or {})}
    defaults = {
        "apiKeys": [CLIENT_KEY],
        "requestTimeoutMs": 5000,
        "streamIdleTimeoutMs": 2000,
        "recordUsage": False,
    }
    if admin:
        defaults["adminKeys"] = [ADMIN_KEY]
    return build_config(
        providers,
        {name: entries(*pairs) for name, pairs in chains.items()},
        **(defaults | (settings or {})),
    )


#: Set to "pyreqwest", the proxies the tests start call their upstreams with the pyreqwest
#: client wherever a test does not choose a client of its own (issue 14's correctness run).
UPSTREAM_CLIENT_VARIABLE = "CHAIN429_TEST_UPSTREAM_CLIENT"


async def start_proxy(config: Config, options: AppOptions | None = None) -> RunningServer:
    return await start_server(create_app(config, _with_upstream_client(options)), "127.0.0.1", 0)


def _with_upstream_client(options: AppOptions | None) -> AppOptions | None:
    name = os.environ.get(UPSTREAM_CLIENT_VARIABLE, "aiohttp")
    opts = options or AppOptions()
    if name == "aiohttp" or opts.upstream_factory != AiohttpUpstream.create:
        return options
    return replace(opts, upstream_factory=upstream_factory(name))
