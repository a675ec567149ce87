"""`python -m chain429.sim --config sim.yaml [--host H] [--port N]`: serve until stopped."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Coroutine, Sequence
from typing import Any

from chain429.errors import ConfigError
from chain429.sim.config import SimConfig, load_sim_config
from chain429.sim.simulator import Simulator

EXAMPLE = """\
example sim.yaml (keys may be camelCase or snake_case; see SimProviderConfig for every field):

  port: 8900
  providers:
    - name: groqsim            # served at http://127.0.0.1:8900/groqsim/v1
      dialect: groq            # groq | cerebras | openrouter | openai | none
      requestsPerDay: 1000
      requestsPerWindow: 30
      windowSeconds: 60
      tokensPerWindow: 6000
      ttftMs: 80
      interChunkMs: 15
    - name: flaky
      dialect: openai
      errorRate: 0.1           # 10% 500s, reproducible from seed
      seed: 42
    - name: quiet
      dialect: none
      requestsPerWindow: 5
      retryAfter: false        # bare 429s: no retry-after, no delay in the body

runtime: POST <prefix>/_control {"errorRate": 1}, GET <prefix>/_stats, GET <prefix>/_last_request,
GET <prefix>/v1/key (OpenRouter's key endpoint; freeTier: false for a key with credits),
GET /_connections (the connections open to the simulator, besides the one asking)
"""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m chain429.sim",
        description="Serve simulated LLM providers.",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--config", required=True, help="simulator YAML file")
    parser.add_argument("--host", default=None, help="listen address (default: from the file)")
    parser.add_argument("--port", type=int, default=None, help="listen port (0 = any free port)")
    return parser.parse_args(argv)


async def serve(config: SimConfig, host: str, port: int) -> None:
    """Run the simulator until SIGINT or SIGTERM, printing each provider's base URL."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    simulator = Simulator.from_config(config)
    await simulator.start(host, port)
    try:
        for name in simulator.names:
            print(f"{name}: {simulator.base_url(name)}", flush=True)
        await stop.wait()
    finally:
        await simulator.stop()


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        config = load_sim_config(args.config)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    host = args.host if args.host is not None else config.host
    port = args.port if args.port is not None else config.port
    try:
        _run(serve(config, host, port))
    except OSError as exc:
        print(f"cannot listen on {host}:{port}: {exc.strerror}", file=sys.stderr)
        return 1
    return 0


def _run(coro: Coroutine[Any, Any, None]) -> None:
    try:
        import uvloop
    except ImportError:  # uvloop is not available on Windows
        asyncio.run(coro)
        return
    uvloop.run(coro)


if __name__ == "__main__":
    sys.exit(main())
