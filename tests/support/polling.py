"""Waiting for a condition in tests: poll it under a deadline, never sleep a fixed time."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, overload

POLL_S = 0.005

T = TypeVar("T")


@overload
async def eventually(
    condition: Callable[[], Awaitable[T | None]],
    *,
    timeout: float = ...,
    what: str = ...,
    interval: float = ...,
) -> T: ...


@overload
async def eventually(
    condition: Callable[[], T | None],
    *,
    timeout: float = ...,
    what: str = ...,
    interval: float = ...,
) -> T: ...


async def eventually(
    condition: Callable[[], Any],
    *,
    timeout: float = 5.0,
    what: str = "",
    interval: float = POLL_S,
) -> Any:
    """Return the first truthy value of `condition()` (sync or async), tried every `interval`
    seconds; fail after `timeout` seconds. An exception `condition` raises ends the wait at
    once (a process that died)."""
    try:
        async with asyncio.timeout(timeout):
            while True:
                met = condition()
                value = await met if inspect.isawaitable(met) else met
                if value:
                    return value
                await asyncio.sleep(interval)
    except TimeoutError:
        raise AssertionError(f"not met within {timeout:g}s: {what or condition}") from None
