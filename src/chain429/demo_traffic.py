"""The demo's traffic: a slow trickle of chat completions sent through the proxy's own URL, so
the dashboard's charts and request log move the moment it opens.

One request at a time, the first at once, then one every `interval_s` seconds on average (each
wait is 0.5 to 1.5 times it); the chain of each is drawn by weight, and about half are
streamed. What the proxy answers (a 429 when a chain has run dry included) is what the demo
shows, so no answer stops the trickle; a request that fails to get one (the connection) is
logged once, and the trickle goes on.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, Final

import aiohttp
import structlog

from chain429.tasks import create_task

log = structlog.get_logger("chain429.demo")

#: What the trickle asks; the simulators answer anything, so the prompts only vary the log.
PROMPTS: Final = (
    "Hello",
    "Write a haiku about rate limits.",
    "Name three primary colours.",
    "Explain HTTP 429 in one sentence.",
    "What is a waterfall?",
)
STREAMED_SHARE: Final = 0.5
#: Each wait is this share of the interval, up to twice it (on average the interval itself).
JITTER: Final = 0.5
REQUEST_TIMEOUT_S: Final = 60.0
#: How long a request under way may go on once the trickle is stopped.
FINISH_S: Final = 5.0


@dataclass(frozen=True)
class DemoRequest:
    """One chat completion of the trickle."""

    chain: str
    stream: bool
    prompt: str

    def body(self) -> dict[str, Any]:
        return {
            "model": self.chain,
            "messages": [{"role": "user", "content": self.prompt}],
            "stream": self.stream,
        }


@dataclass(frozen=True)
class Traffic:
    """Where the trickle goes and how often: `chains` are (chain name, weight) pairs."""

    base_url: str
    api_key: str
    interval_s: float
    chains: Sequence[tuple[str, int]]


def next_request(traffic: Traffic, rng: random.Random) -> DemoRequest:
    names = [name for name, _ in traffic.chains]
    weights = [weight for _, weight in traffic.chains]
    (chain,) = rng.choices(names, weights)
    return DemoRequest(chain, rng.random() < STREAMED_SHARE, rng.choice(PROMPTS))


def next_wait(traffic: Traffic, rng: random.Random) -> float:
    return traffic.interval_s * rng.uniform(1 - JITTER, 1 + JITTER)


async def send_traffic(traffic: Traffic, rng: random.Random | None = None) -> None:
    """Send the trickle until cancelled; a request under way when cancelled is let finish
    first (for at most `FINISH_S`), so stopping the demo cuts no request off in its log."""
    draw = rng or random.Random()
    headers = {"Authorization": f"Bearer {traffic.api_key}"}
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    url = f"{traffic.base_url}/v1/chat/completions"
    failed_before = False
    async with aiohttp.ClientSession(headers=headers, timeout=timeout) as http:
        while True:
            request = next_request(traffic, draw)
            try:
                await let_finish(_send(http, url, request))
            except (aiohttp.ClientError, TimeoutError) as exc:
                if not failed_before:
                    log.warning(
                        "demo traffic: a request failed; the trickle goes on, and logs no "
                        "further failure",
                        chain=request.chain,
                        error=str(exc) or type(exc).__name__,
                    )
                    failed_before = True
            await asyncio.sleep(next_wait(traffic, draw))


async def _send(http: aiohttp.ClientSession, url: str, request: DemoRequest) -> None:
    """One request, read to its end (a stream too) whatever its status."""
    async with http.post(url, json=request.body()) as answer:
        await answer.read()


async def let_finish(sending: Coroutine[Any, Any, None]) -> None:
    """Await `sending`; cancelled meanwhile, give it `FINISH_S` to end, then stop it too."""
    task = create_task(sending, name="demo request")
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        await asyncio.wait([task], timeout=FINISH_S)
        task.cancel()
        await asyncio.wait([task])
        if not task.cancelled():
            task.exception()  # how it ended no longer matters: the trickle is stopping
        raise
