"""The `429chain` command: serve, init, check, demo. A thin shell over the Python API."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Coroutine
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import orjson
import structlog
import typer
from rich.console import Console

from chain429 import __version__
from chain429.config.example import example_config, new_admin_key
from chain429.config.load import load_config, validate_config
from chain429.config.schema import Config, shown_url
from chain429.errors import ConfigError, StartupError
from chain429.usage.db_file import DatabaseFileError, check_database_file

DEFAULT_CONFIG = Path("config/config.yaml")


class LogFormatChoice(StrEnum):
    CONSOLE = "console"
    JSON = "json"


class UpstreamClientChoice(StrEnum):
    AIOHTTP = "aiohttp"
    PYREQWEST = "pyreqwest"


app = typer.Typer(
    name="429chain",
    help="OpenAI-compatible proxy that waterfalls across free LLM tiers.",
    no_args_is_help=True,
    add_completion=False,
)
# Never wrap: a wrapped line could split a command the user is meant to copy.
console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)

ConfigOption = Annotated[
    Path, typer.Option("--config", "-c", help="Config file (YAML).", envvar="CHAIN429_CONFIG")
]
DebugOption = Annotated[
    bool, typer.Option("--debug", help="Show the whole traceback when the proxy cannot start.")
]


def announce(text: str) -> None:
    """Print a banner as it is: no wrapping, no markup (it holds copy-paste commands)."""
    console.print(text, markup=False, highlight=False, soft_wrap=True)


def _version(value: bool) -> None:
    if value:
        console.print(f"429chain {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """429chain: never fail a request for a rate limit while free capacity exists."""


def _load(path: Path, *, as_json: bool = False) -> Config:
    try:
        return load_config(path)
    except ConfigError as exc:
        _refuse(f"{path}: invalid config", exc, as_json=as_json)


def _with_overrides(
    loaded: Config, path: Path, *, as_json: bool = False, **overrides: object
) -> Config:
    """`loaded` with the command line's settings, checked by the same schema as the file."""
    given = {name: value for name, value in overrides.items() if value is not None}
    if not given:
        return loaded
    settings = {**loaded.settings.model_dump(by_alias=True), **given}
    try:
        return validate_config({**loaded.model_dump(by_alias=True), "settings": settings})
    except ConfigError as exc:
        _refuse(f"{path}: invalid settings on the command line", exc, as_json=as_json)


def _refuse(heading: str, exc: ConfigError, *, as_json: bool = False) -> NoReturn:
    if as_json:
        _json_error("invalid config", heading=heading, problems=list(exc.problems))
    else:
        errors.print(f"[red]{heading}[/red]")
        for problem in exc.problems:
            errors.print(f"  - {problem}", markup=False, highlight=False)
    raise typer.Exit(1) from exc


def _json_error(event: str, **fields: object) -> None:
    """One error line in the JSON log format, for what happens before logging is set up."""
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    line = {"event": event, "level": "error", "timestamp": now, **fields}
    sys.stderr.write(orjson.dumps(line).decode() + "\n")


@app.command()
def serve(
    config: ConfigOption = DEFAULT_CONFIG,
    host: Annotated[
        str | None, typer.Option(help="Listen address (overrides settings.host).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port (overrides settings.port).")] = None,
    log_format: Annotated[
        LogFormatChoice, typer.Option(help="Request log format.", envvar="CHAIN429_LOG_FORMAT")
    ] = LogFormatChoice.CONSOLE,
    upstream_client: Annotated[
        UpstreamClientChoice,
        typer.Option(help="HTTP client that calls the providers (pyreqwest: an optional extra)."),
    ] = UpstreamClientChoice.AIOHTTP,
    debug: DebugOption = False,
) -> None:
    """Run the proxy."""
    as_json = log_format is LogFormatChoice.JSON
    loaded = _load(config, as_json=as_json)
    loaded = _with_overrides(loaded, config, as_json=as_json, host=host, port=port)
    from chain429.runner import run_proxy

    run_event_loop(
        run_proxy(
            loaded,
            log_format=log_format.value,
            announce=announce,
            config_path=config,
            upstream_client=upstream_client.value,
        ),
        debug=debug,
        as_json=as_json,
    )


@app.command()
def init(
    config: ConfigOption = DEFAULT_CONFIG,
) -> None:
    """Write a commented example config with a fresh admin key (never overwrites)."""
    if config.exists():
        errors.print(f"{config} already exists; not overwriting it.")
        raise typer.Exit(1)
    config.parent.mkdir(parents=True, exist_ok=True)
    admin_key = new_admin_key()
    _write_private(config, example_config(admin_key))
    console.print(f"Wrote {config}. Set the keys it names, then: 429chain check --config {config}")
    # Printed once, here, and never logged: the file (readable by its owner only) keeps it.
    announce(
        f"Admin key for the management API and the dashboard (settings.adminKeys): {admin_key}"
    )


def _write_private(path: Path, text: str) -> None:
    """Create `path` readable and writable by its owner only: it holds a key."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(text)


@app.command()
def check(config: ConfigOption = DEFAULT_CONFIG) -> None:
    """Validate a config, show its providers and chains, and check its usage database path."""
    loaded = _load(config)
    database = _check_database(loaded)
    console.print(f"[green]{config}: valid[/green]")
    console.print("Providers:")
    for provider in loaded.providers:
        keys = len(provider.keys)
        console.print(
            f"  {provider.id} ({provider.type.value}) {provider.resolved_base_url} "
            f"- {keys} key{'s' if keys != 1 else ''}",
            markup=False,
            highlight=False,
        )
    console.print("Chains:")
    for chain in loaded.chains:
        mark = " (default)" if chain.name == loaded.settings.default_chain else ""
        entries = " -> ".join(f"{e.provider}/{e.model}" for e in chain.entries)
        console.print(f"  {chain.name}{mark}: {entries}", markup=False, highlight=False)
    if database is not None:
        console.print(f"Usage database: {database}", markup=False, highlight=False, soft_wrap=True)


def _check_database(config: Config) -> str | None:
    """What `settings.dbPath` holds, if usage is recorded; exits when it cannot be used. A
    PostgreSQL database (`settings.database`) is named, not connected to."""
    if not config.settings.record_usage:
        return None
    if config.settings.database is not None:
        return f"{shown_url(config.settings.database)} (PostgreSQL)"
    path = Path(config.settings.db_path)
    try:
        exists = check_database_file(path)
    except DatabaseFileError as exc:
        _cannot_start(StartupError(str(exc), "settings.dbPath"))
    return f"{path} ({'an SQLite database' if exists else 'will be created'})"


def _cannot_start(exc: StartupError, *, as_json: bool = False) -> NoReturn:
    if as_json:
        _json_error("cannot start", cause=exc.cause, setting=exc.setting)
    else:
        errors.print(f"cannot start: {exc}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(1) from exc


@app.command()
def health(
    config: ConfigOption = DEFAULT_CONFIG,
    port: Annotated[
        int | None,
        typer.Option(help="Port to check (default: the config's, after the environment)."),
    ] = None,
    timeout: Annotated[float, typer.Option(min=0.1, help="Seconds to wait for the answer.")] = 3.0,
) -> None:
    """Ask a proxy on this machine whether it is up (GET /health): exit 0 if it answers, else 1.
    The container's health check; it finds the port where `serve` does (the environment, then
    the config file), so changing the port never breaks it."""
    from chain429.health_check import check_health

    settings = _load(config).settings
    problem = check_health(settings.host, port or settings.port, timeout)
    if problem is not None:
        errors.print(f"unhealthy: {problem}", markup=False, highlight=False)
        raise typer.Exit(1)
    console.print("healthy")


@app.command()
def demo(
    port: Annotated[int, typer.Option(help="Proxy port.")] = 3429,
    host: Annotated[str, typer.Option(help="Listen address.")] = "127.0.0.1",
    traffic: Annotated[
        bool,
        typer.Option(
            "--traffic/--no-traffic",
            help="Send a slow trickle of requests through the proxy, so the dashboard moves.",
        ),
    ] = True,
    traffic_interval: Annotated[
        float | None,
        typer.Option(
            min=0.01,
            help="Seconds between the trickle's requests on average (each wait is 0.5 to 1.5 "
            "times this; 2 unless given).",
        ),
    ] = None,
    debug: DebugOption = False,
) -> None:
    """Run the proxy against three simulated free-tier providers."""
    from chain429.demo import TRAFFIC_INTERVAL_S, DemoOptions, run_demo

    interval = traffic_interval if traffic_interval is not None else TRAFFIC_INTERVAL_S
    options = DemoOptions(host, port, interval if traffic else None)
    run_event_loop(run_demo(options, announce=announce), debug=debug)


def run_event_loop(
    main: Coroutine[Any, Any, None], *, debug: bool = False, as_json: bool = False
) -> None:
    """Run `main` on uvloop where available, stopping cleanly on Ctrl-C or SIGTERM.

    SIGHUP is logged and ignored, unless `main` replaces its handler (`serve` does: it reloads
    the config file). A `StartupError` is one line on stderr and exit code 1; with `debug`,
    its traceback too.
    """
    try:
        import uvloop

        runner = asyncio.Runner(loop_factory=uvloop.new_event_loop)
    except ImportError:
        runner = asyncio.Runner()
    with runner:
        loop = runner.get_loop()
        task = loop.create_task(main, name="main")

        def stop() -> None:
            # The first signal starts the drain; more signals must not cut it short, or the
            # usage records of the requests being drained would be lost.
            if not task.cancelling():
                task.cancel()

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop)
        loop.add_signal_handler(signal.SIGHUP, _hang_up)
        try:
            runner.run(_await(task))
        except asyncio.CancelledError:
            pass
        except StartupError as exc:
            if debug:
                raise
            _cannot_start(exc, as_json=as_json)


def _hang_up() -> None:
    structlog.get_logger("chain429").warning(
        "SIGHUP ignored", reason="this process has no config file to reload"
    )


async def _await(task: asyncio.Task[None]) -> None:
    await task


def main() -> None:
    app(prog_name="429chain")


if __name__ == "__main__":
    main()
