"""`429chain demo`: the proxy in front of three simulated free tiers with small limits.

Each simulated provider speaks a different header dialect and allows only a few requests a
minute, so repeating the example request shows the serving provider move down the chain
while the client never sees an error.

Every run starts from fresh state: the simulators are new, so the proxy's database is too (a
temporary one, removed at exit). A limit state saved by an earlier run would describe
simulators that no longer exist, and bench providers that are in fact fresh.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from chain429.config.load import validate_config
from chain429.config.schema import Config
from chain429.runner import run_proxy
from chain429.server import RunningServer
from chain429.sim.config import Dialect, SimProviderConfig
from chain429.sim.simulator import Simulator

DEMO_CLIENT_KEY = "demo-key"
DEMO_PROVIDER_KEY = "sim-provider-key-0000"

DEMO_PROVIDERS = (
    SimProviderConfig(
        name="groq-sim",
        dialect=Dialect.GROQ,
        models=("llama-3.1-8b-instant",),
        requests_per_window=3,
        # Groq's request headers count per day (PROVIDERS.md): without a daily cap the simulator
        # would put the per-minute count in them, and the proxy would call it per day.
        requests_per_day=14_400,
        window_seconds=60,
        ttft_ms=80,
        inter_chunk_ms=15,
    ),
    SimProviderConfig(
        name="cerebras-sim",
        dialect=Dialect.CEREBRAS,
        models=("llama3.1-8b",),
        requests_per_window=4,
        window_seconds=60,
        ttft_ms=60,
        inter_chunk_ms=10,
    ),
    SimProviderConfig(
        name="openrouter-sim",
        dialect=Dialect.OPENROUTER,
        models=("meta-llama/llama-3.3-70b-instruct:free",),
        requests_per_window=20,
        window_seconds=60,
        ttft_ms=150,
        inter_chunk_ms=25,
    ),
)

_TYPES = {"groq-sim": "groq", "cerebras-sim": "cerebras", "openrouter-sim": "openrouter"}


def demo_config(sim: Simulator, host: str, port: int, db_path: str) -> Config:
    providers = [
        {
            "id": p.name,
            "name": p.name,
            "type": _TYPES[p.name],
            "apiKey": DEMO_PROVIDER_KEY,
            "baseUrl": sim.base_url(p.name),
        }
        for p in DEMO_PROVIDERS
    ]
    entries = [{"provider": p.name, "model": p.models[0]} for p in DEMO_PROVIDERS]
    return validate_config(
        {
            "version": 1,
            "settings": {
                "host": host,
                "port": port,
                "apiKeys": [DEMO_CLIENT_KEY],
                "defaultChain": "default",
                "cooldownDefaultMs": 20_000,
                "dbPath": db_path,
            },
            "providers": providers,
            "chains": [
                {"name": "default", "entries": entries},
                {"name": "fast", "entries": entries[:2]},
            ],
        }
    )


async def run_demo(*, host: str, port: int, announce: Callable[[str], None]) -> None:
    with tempfile.TemporaryDirectory(prefix="429chain-demo-") as data:
        async with Simulator(DEMO_PROVIDERS) as sim:
            config = demo_config(sim, host, port, str(Path(data) / "demo.db"))
            await run_proxy(
                config,
                log_format="console",
                announce=announce,
                banner=lambda server: demo_banner(server, sim, config),
            )


def demo_banner(server: RunningServer, sim: Simulator, config: Config) -> str:
    url = server.url
    chains = "\n".join(
        f"  chain '{c.name}': " + " -> ".join(f"{e.provider}/{e.model}" for e in c.entries)
        for c in config.chains
    )
    simulated = "\n".join(
        f"    {p.name:<15} {p.requests_per_window} requests/min, {p.dialect.value} headers, "
        f"{sim.base_url(p.name)}"
        for p in DEMO_PROVIDERS
    )
    return f"""\
429chain demo is running (Ctrl-C stops everything).

  OpenAI base URL  {url}/v1
  API key          {DEMO_CLIENT_KEY}
  health           {url}/health
  models           {url}/v1/models
  dashboard        {url}/

{chains}

  simulated free tiers:
{simulated}

Try it (repeat it: after a few calls the serving provider moves down the chain):

  curl -s {url}/v1/chat/completions \\
    -H "Authorization: Bearer {DEMO_CLIENT_KEY}" -H "Content-Type: application/json" \\
    -d '{{"model": "default", "messages": [{{"role": "user", "content": "Hello"}}]}}'

  {_interpreter()} - <<'PY'
from openai import OpenAI
client = OpenAI(base_url="{url}/v1", api_key="{DEMO_CLIENT_KEY}")
for i in range(10):
    raw = client.chat.completions.with_raw_response.create(
        model="default", messages=[{{"role": "user", "content": "Hello"}}])
    print(i, raw.headers["x-429chain-provider"], raw.parse().choices[0].message.content[:50])
PY
"""


def _interpreter() -> str:
    """The Python running the demo (the one `make demo` installed `openai` into), as the
    shortest path that works from here (`.venv/bin/python` in the repository)."""
    relative = os.path.relpath(sys.executable)
    return sys.executable if relative.startswith("..") else relative
