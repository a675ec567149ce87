"""Waiting for a condition in tests: poll it under a deadline, never sleep a fixed time."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable

POLL_S = 0.005


async def eventually(
    condition: Callable[[], bool | Awaitable[bool]], *, timeout: float = 5.0, what: str = ""
) -> None:
    """Return once `condition()` (sync or async) is true; fail after `timeout` seconds."""
    try:
        async with asyncio.timeout(timeout):
            while True:
                met = condition()
                if inspect.isawaitable(met):
                    met = await met
                if met:
                    return
                await asyncio.sleep(POLL_S)
    except TimeoutError:
        raise AssertionError(f"not met within {timeout:g}s: {what or condition}") from None
