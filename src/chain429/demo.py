"""`429chain demo`: the proxy in front of three simulated free tiers with small limits.

Each simulated provider speaks a different header dialect and allows only a few requests a
minute, so repeating the example request shows the serving provider move down the chain
while the client never sees an error. Unless turned off, a trickle of requests
(`demo_traffic`) keeps the dashboard's charts and request log moving.

Every run starts from fresh state: the simulators are new, so the proxy's database is too (a
temporary one, removed at exit). A limit state saved by an earlier run would describe
simulators that no longer exist, and bench providers that are in fact fresh. The config is a
file in the same temporary directory, so the dashboard's edits have somewhere to go.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from chain429.config.load import load_config
from chain429.config.round_trip import dump, round_trip_yaml
from chain429.config.schema import Config
from chain429.demo_traffic import JITTER, Traffic, send_traffic
from chain429.runner import run_proxy
from chain429.server import RunningServer
from chain429.sim.config import Dialect, SimProviderConfig
from chain429.sim.simulator import Simulator

DEMO_CLIENT_KEY = "demo-key"
#: Fixed, like the client key: the demo holds nothing worth guarding, and a dashboard tab
#: signed in with it stays signed in across restarts of the demo.
DEMO_ADMIN_KEY = "demo-admin-key"
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


#: The chains the trickle uses, by weight: `fast` has no third entry, so it runs dry within
#: the minute and some of its requests show a chain that is out of capacity.
TRAFFIC_CHAINS: Final = (("default", 3), ("fast", 1))
#: On average one request every this many seconds (each wait 1 to 3 s): 30 a minute, just over
#: what the `default` chain's three entries allow together (3 + 4 + 20).
TRAFFIC_INTERVAL_S: Final = 2.0
CONFIG_FILE: Final = "429chain-demo.yaml"
#: The environment the demo's config is read in: none (its file names no variable).
NO_ENVIRONMENT: Final[Mapping[str, str]] = {}


@dataclass(frozen=True)
class DemoOptions:
    """Where the demo listens, and how often its traffic sends (`None`: no traffic)."""

    host: str = "127.0.0.1"
    port: int = 3429
    traffic_interval_s: float | None = TRAFFIC_INTERVAL_S


def demo_document(sim: Simulator, host: str, port: int, db_path: str) -> dict[str, Any]:
    """The demo's config, as the data of its file."""
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
    entries = [(p.name, p.models[0]) for p in DEMO_PROVIDERS]
    return {
        "version": 1,
        "settings": {
            "host": host,
            "port": port,
            "apiKeys": [DEMO_CLIENT_KEY],
            "adminKeys": [DEMO_ADMIN_KEY],
            "defaultChain": "default",
            "cooldownDefaultMs": 20_000,
            "dbPath": db_path,
        },
        "providers": providers,
        "chains": [
            {"name": "default", "entries": _entries(entries)},
            {"name": "fast", "entries": _entries(entries[:2])},
        ],
    }


def _entries(pairs: list[tuple[str, str]]) -> list[dict[str, str]]:
    """New mappings for each chain: shared ones would be written as YAML aliases, and an edit
    of one chain would change the other."""
    return [{"provider": provider, "model": model} for provider, model in pairs]


def write_config(directory: Path, document: dict[str, Any]) -> Path:
    """The demo's config file in `directory`, read back as the proxy reads any config."""
    path = directory / CONFIG_FILE
    text = dump(round_trip_yaml(""), document)
    path.write_text(f"# The demo's config: temporary, removed when it stops.\n{text}", "utf-8")
    return path


async def run_demo(options: DemoOptions, *, announce: Callable[[str], None]) -> None:
    with tempfile.TemporaryDirectory(prefix="429chain-demo-") as data:
        directory = Path(data)
        async with Simulator(DEMO_PROVIDERS) as sim:
            document = demo_document(sim, options.host, options.port, str(directory / "demo.db"))
            path = write_config(directory, document)
            # The demo's own settings: no CHAIN429_* variable of the shell moves its port or
            # replaces its keys.
            config = load_config(path, environ=NO_ENVIRONMENT)
            await run_proxy(
                config,
                log_format="console",
                announce=announce,
                banner=lambda server: demo_banner(server, sim, config, path, options),
                config_path=path,
                alongside=_traffic(options.traffic_interval_s),
                config_environ=NO_ENVIRONMENT,
            )


def _traffic(
    interval_s: float | None,
) -> Callable[[RunningServer], Coroutine[Any, Any, None]] | None:
    if interval_s is None:
        return None

    def trickle(server: RunningServer) -> Coroutine[Any, Any, None]:
        traffic = Traffic(server.url, DEMO_CLIENT_KEY, interval_s, TRAFFIC_CHAINS)
        return send_traffic(traffic)

    return trickle


def demo_banner(
    server: RunningServer, sim: Simulator, config: Config, path: Path, options: DemoOptions
) -> str:
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

  dashboard        {url}/
  admin key        {DEMO_ADMIN_KEY}  (sign in to the dashboard with it)
  OpenAI base URL  {url}/v1
  API key          {DEMO_CLIENT_KEY}
  health           {url}/health
  models           {url}/v1/models
  config file      {path}  (temporary: the dashboard's edits are saved here)
  traffic          {traffic_line(options.traffic_interval_s)}

{chains}

  simulated free tiers:
{simulated}

Try it (repeat it: after a few calls the serving provider moves down the chain{_sooner(options)}):

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


def _sooner(options: DemoOptions) -> str:
    if options.traffic_interval_s is None:
        return ""
    return "; the traffic uses the first entries up too, so it moves sooner"


def traffic_line(interval_s: float | None) -> str:
    """What the banner says of the demo's own traffic, and how to turn it off (or on)."""
    if interval_s is None:
        return "off (without --no-traffic the demo sends requests itself)"
    low, high = interval_s * (1 - JITTER), interval_s * (1 + JITTER)
    chains = " and ".join(f"'{name}'" for name, _ in TRAFFIC_CHAINS)
    return f"a request every {low:g}-{high:g} s on chains {chains} (--no-traffic: none)"


def _interpreter() -> str:
    """The Python running the demo (the one `make demo` installed `openai` into), as the
    shortest path that works from here (`.venv/bin/python` in the repository)."""
    relative = os.path.relpath(sys.executable)
    return sys.executable if relative.startswith("..") else relative
