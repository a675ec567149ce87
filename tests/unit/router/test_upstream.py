"""The router's side of the upstream seam: an error body is read up to a cap and the connection
handed back (dropped when the task is being cancelled), never raising an upstream error."""

from __future__ import annotations

import asyncio

import pytest

from chain429.errors import UpstreamProtocolError
from chain429.router.upstream import MAX_ERROR_BODY_BYTES, read_and_release
from tests.support.fake_router_io import ScriptedResponse


class BrokenBody(ScriptedResponse):
    async def read(self, limit: int | None = None) -> bytes:
        raise UpstreamProtocolError("the connection broke")


async def test_an_error_body_is_read_up_to_the_cap_and_the_connection_released() -> None:
    response = ScriptedResponse(500, b"x" * (MAX_ERROR_BODY_BYTES + 10))
    assert await read_and_release(response) == b"x" * MAX_ERROR_BODY_BYTES
    assert (response.released, response.closed) == (True, False)


async def test_a_body_that_cannot_be_read_is_empty_and_still_released() -> None:
    response = BrokenBody(500)
    assert await read_and_release(response) == b""
    assert response.released


async def test_a_read_in_a_task_being_cancelled_drops_the_connection() -> None:
    response = ScriptedResponse(500, b"{}")
    bodies: list[bytes] = []

    async def cancelled_then_read() -> None:
        task = asyncio.current_task()
        assert task is not None
        task.cancel()  # pending: delivered at the next suspension, after the read below
        bodies.append(await read_and_release(response))

    with pytest.raises(asyncio.CancelledError):
        await asyncio.ensure_future(cancelled_then_read())
    assert bodies == [b"{}"]
    assert (response.released, response.closed) == (False, True)
