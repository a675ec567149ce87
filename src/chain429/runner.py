"""Run a proxy until cancelled (Ctrl-C, SIGTERM), then drain and stop it; SIGHUP reloads its
config file."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import signal
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any, Final

import structlog

from chain429.app import AppOptions, create_app
from chain429.config.editor import ConfigEditor
from chain429.config.schema import Config
from chain429.errors import Chain429Error, ConfigError, StartupError
from chain429.logs import LogFormat, configure_logging
from chain429.reconfigure import changes
from chain429.router.upstream import UpstreamClient
from chain429.server import RunningServer, start_server
from chain429.state import CONFIG_EDITOR, STATE
from chain429.tasks import create_task
from chain429.upstream_http import AiohttpUpstream
from chain429.usage.request_line import RequestLines
from chain429.workers import WorkerRole

Announce = Callable[[str], None]

log = structlog.get_logger("chain429.runner")


async def run_proxy(
    config: Config,
    *,
    log_format: LogFormat,
    announce: Announce,
    banner: Callable[[RunningServer], str] | None = None,
    config_path: Path | None = None,
    alongside: Callable[[RunningServer], Coroutine[Any, Any, None]] | None = None,
    config_environ: Mapping[str, str] | None = None,
    upstream_client: str = "aiohttp",
    worker: WorkerRole | None = None,
) -> None:
    """Serve `config` until cancelled; `banner` says what is listening (the proxy's by default).
    `config_path` is the file `config` was read from: management writes save to it, and SIGHUP
    reloads it. `alongside` runs while the proxy serves (the demo's traffic): started after the
    banner, and cancelled, and waited for, before the drain. `config_environ` is the
    environment the file is read in again (the process's unless given). `upstream_client` names
    the HTTP client that calls the providers. A `worker` of `serve --workers` shares its port
    with the others.

    With JSON logs the banner is a `listening` log line instead, so every line is JSON."""
    settings = config.settings
    log_secrets = configure_logging(settings.log_level, log_format, config.secrets())
    request_lines = RequestLines(log_format, settings.log_level)
    options = AppOptions(
        request_lines=request_lines,
        upstream_factory=upstream_factory(upstream_client),
        log_secrets=log_secrets,
        config_path=config_path,
        config_environ=config_environ,
    )
    app = create_app(config, options)
    server = await start_server(app, settings.host, settings.port, reuse_port=worker is not None)
    if config_path is not None:
        reload_on_hangup(app[CONFIG_EDITOR])
    settle_heap()
    worker_fields = {"worker_pid": os.getpid()} if worker is not None else {}
    if log_format == "json":
        log.info("listening", **listening_fields(config, server), **worker_fields)
    else:
        text = banner(server) if banner is not None else proxy_banner(config, server)
        if worker is not None:
            text += f"\n  worker:          pid {os.getpid()} (of `429chain serve --workers`)"
        announce(text)
    companion = create_task(alongside(server), name="alongside") if alongside else None
    try:
        await asyncio.Event().wait()
    finally:
        if companion is not None:
            companion.cancel()
            await asyncio.wait([companion])
            if not companion.cancelled() and (failure := companion.exception()) is not None:
                log.error("the task alongside the proxy had failed", exc_info=failure)
        await server.stop()
        report = app[STATE].shutdown.summary()
        structlog.get_logger("chain429").info("shutdown complete", **report)


def upstream_factory(name: str) -> Callable[[], UpstreamClient]:
    """The upstream client named `name` ("aiohttp" or "pyreqwest"); pyreqwest is an optional
    dependency, imported only when chosen."""
    if name == "aiohttp":
        return AiohttpUpstream.create
    if name != "pyreqwest":
        raise StartupError(f"no upstream client named {name!r}", "--upstream-client")
    try:
        from chain429.upstream_pyreqwest import PyreqwestUpstream
    except ModuleNotFoundError as exc:
        raise StartupError(
            "the pyreqwest client needs the pyreqwest package (pip install '429chain[pyreqwest]')",
            "--upstream-client",
        ) from exc
    return PyreqwestUpstream.create


def reload_on_hangup(editor: ConfigEditor) -> None:
    """Make SIGHUP reload the config file (where the event loop supports signal handlers)."""
    loop = asyncio.get_running_loop()

    def hang_up() -> None:
        create_task(reload_file(editor), name="config reload (SIGHUP)")

    with contextlib.suppress(NotImplementedError):
        loop.add_signal_handler(signal.SIGHUP, hang_up)


async def reload_file(editor: ConfigEditor) -> None:
    """Reload the config file and log what changed; an invalid file is logged with its
    problems (field paths) and the running configuration stays."""
    before = editor.config
    try:
        after = await editor.reload()
    except ConfigError as exc:
        log.error(
            "config not reloaded",
            reason="the config file is invalid; the running configuration stays",
            problems=exc.problems,
        )
        return
    except Chain429Error as exc:
        log.error("config not reloaded", reason=str(exc))
        return
    applied = changes(before, after)
    changed = {f.name: list(v) for f in fields(applied) if (v := getattr(applied, f.name))}
    log.info("config reloaded", changed=bool(changed), **changed)


#: Collect the youngest generation after 50,000 new objects rather than 700, the middle one
#: every 20 of those: a request leaves dozens of container objects alive for a while, so the
#: default walked every request in flight again and again (see bench/README.md, "Figures
#: measured once"). Cyclic garbage waits a little longer.
GC_THRESHOLDS: Final = (50_000, 20, 20)


def settle_heap() -> None:
    """Tune the garbage collector for serving, once start-up is done.

    What start-up built (modules, config, routes) lives as long as the process; frozen, it is
    left out of every full collection, which otherwise walks it all again and again under load,
    a pause for every request in flight.
    """
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


#: Why the management API only reads, and how to let it write.
WRITES_OFF: Final = (
    "management writes are off: settings.adminKeys is empty (add an admin key there, "
    "or start from `429chain init`, which generates one)"
)


def listening_fields(config: Config, server: RunningServer) -> dict[str, object]:
    """The banner's facts, as fields of a log line."""
    writes = bool(config.settings.admin_keys)
    fields: dict[str, object] = {
        "url": server.url,
        "openai_base_url": f"{server.url}/v1",
        "chains": {c.name: [f"{e.provider}/{e.model}" for e in c.entries] for c in config.chains},
        "default_chain": config.settings.default_chain,
        "management_api": f"{server.url}/api",
        "dashboard": f"{server.url}/",
        "management_writes": writes,
    }
    if not writes:
        fields["management_writes_off"] = WRITES_OFF
    return fields


def proxy_banner(config: Config, server: RunningServer) -> str:
    chains = ", ".join(c.name for c in config.chains)
    banner = (
        f"429chain listening on {server.url}\n"
        f"  dashboard:       {server.url}/\n"
        f"  OpenAI base URL: {server.url}/v1\n"
        f"  health:          {server.url}/health\n"
        f"  chains:          {chains} (default: {config.settings.default_chain})\n"
        f"  management API:  {server.url}/api (docs: {server.url}/api/docs)"
    )
    if not config.settings.admin_keys:
        banner += f"\n  {WRITES_OFF}"
    return banner
