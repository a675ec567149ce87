"""The memory store, the default, never loads the Redis client: redis-py and the shared-state
modules stay out of a proxy that does not use them (about 7 MiB of its memory, issue 14)."""

from __future__ import annotations

import asyncio
import sys

_SERVE_AND_LIST_REDIS = """
import asyncio, sys
from tests.support.proxy import make_config, start_proxy

async def main() -> None:
    server = await start_proxy(make_config([("a", "http://127.0.0.1:9/v1")]))
    await server.stop()

asyncio.run(main())
print(sorted({name.split(".")[0] for name in sys.modules} & {"redis", "hiredis"}))
print(sorted(name for name in sys.modules if name.startswith("chain429.state_store.")))
"""


async def test_a_proxy_on_the_memory_store_loads_no_redis_module() -> None:
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _SERVE_AND_LIST_REDIS, stdout=asyncio.subprocess.PIPE
    )
    stdout, _ = await asyncio.wait_for(child.communicate(), timeout=60)
    assert child.returncode == 0
    clients, modules = stdout.decode().splitlines()
    assert clients == "[]"
    assert "redis_store" not in modules and "config_sharing" not in modules
