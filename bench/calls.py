"""Python calls per request, by module: where the proxy's per-request work is spread (issue 14).

On this interpreter a Python-level call costs about a thousand instructions, so the number of
calls a request makes is a fair map of where its time goes, and, unlike time, cProfile counts
them exactly. This serves the proxy in this process as `429chain serve` builds it (the app, the
usage recording of its config, the request lines to a file, `settle_heap`), starts nginx (the
upstream of `make bench`) and, per answer kind, runs wrk at one connection for `--warmup`
seconds, then for `--seconds` with cProfile on the event loop's thread. The report gives the
calls per completed request by module (429chain's modules one by one; each library as one
line; the standard library's modules with a `stdlib:` prefix; C functions as `builtins`) and
429chain's functions with at least `--min` calls per request. cProfile counts a coroutine
once per resumption: an `async def` that awaits once counts 2. The counts are those of the
event loop's thread only (the usage writer's thread is not profiled).
Run it with `make bench-calls`; exit 2 when a tool is missing, 1 when a run fails.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import sys
import tempfile
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import uvloop

from chain429.app import AppOptions, create_app
from chain429.config.load import validate_config
from chain429.logs import configure_logging
from chain429.runner import settle_heap
from chain429.server import start_server
from chain429.usage.request_line import RequestLines
from nginx import nginx_binary, run_nginx
from overhead import pick_cores, report_run
from payloads import CLIENT_KEY, client_request
from proxy_process import KINDS, proxy_config
from spawn import BenchError, free_port
from wrk import run_wrk_async, write_script, wrk_binary

OURS = "chain429"
#: A function's place in cProfile's statistics: (file name, first line, function name).
FunctionKey = tuple[str, int, str]


@dataclass(frozen=True, slots=True)
class Options:
    kinds: tuple[str, ...]
    seconds: int
    warmup: int
    min_calls: float


@dataclass(frozen=True, slots=True)
class Profile:
    """One answer kind's calls per request, by module and by 429chain function."""

    kind: str
    requests: int
    modules: Mapping[str, float]
    functions: Mapping[str, float]

    @property
    def total(self) -> float:
        return sum(self.modules.values())

    @property
    def ours(self) -> float:
        return sum(n for module, n in self.modules.items() if is_ours(module))


def module_of(filename: str) -> str:
    """The module a profiled function belongs to, named for the report: `chain429.<module>`
    for ours, the distribution's top-level name for a library, `stdlib:<file stem>` for the
    standard library, `builtins` for C functions (cProfile's `~`)."""
    if filename == "~":
        return "builtins"
    path = filename.replace("\\", "/")
    if f"/{OURS}/" in path:
        inside = path.rsplit(f"/{OURS}/", 1)[1].removesuffix(".py")
        return f"{OURS}.{inside.replace('/', '.')}"
    if "site-packages/" in path:
        top = path.split("site-packages/", 1)[1].split("/", 1)[0]
        return top.removesuffix(".py")
    return "stdlib:" + Path(path).stem


def is_ours(module: str) -> bool:
    return module == OURS or module.startswith(f"{OURS}.")


def per_request(
    calls: Mapping[FunctionKey, int], requests: int
) -> tuple[dict[str, float], dict[str, float]]:
    """Calls per request by module, and by 429chain function (`module:line name`)."""
    if requests <= 0:
        raise BenchError("no request completed while profiling")
    modules: Counter[str] = Counter()
    functions: dict[str, float] = {}
    for (filename, line, name), count in calls.items():
        module = module_of(filename)
        modules[module] += count
        if is_ours(module):
            functions[f"{module}:{line} {name}"] = count / requests
    return {m: n / requests for m, n in modules.items()}, functions


def report(profiles: Sequence[Profile], min_calls: float) -> str:
    """Markdown: one table of modules with a column per kind, then 429chain's functions."""
    kinds = [p.kind for p in profiles]
    lines = [
        "Python calls per request (cProfile, event loop thread, 1 connection, recording on)",
        "",
        "| module | " + " | ".join(kinds) + " |",
        "| --- | " + " | ".join("---:" for _ in kinds) + " |",
        "| **all** | " + " | ".join(f"**{p.total:,.1f}**" for p in profiles) + " |",
        "| **429chain** | " + " | ".join(f"**{p.ours:,.1f}**" for p in profiles) + " |",
    ]
    modules = sorted(
        {m for p in profiles for m, n in p.modules.items() if n >= min_calls},
        key=lambda m: (-max(p.modules.get(m, 0.0) for p in profiles), m),
    )
    for module in modules:
        cells = " | ".join(f"{p.modules.get(module, 0.0):,.2f}" for p in profiles)
        lines.append(f"| {module} | {cells} |")
    lines += [
        "",
        f"429chain functions with at least {min_calls:g} call per request:",
        "",
        "| function | " + " | ".join(kinds) + " |",
        "| --- | " + " | ".join("---:" for _ in kinds) + " |",
    ]
    functions = sorted(
        {f for p in profiles for f, n in p.functions.items() if n >= min_calls},
    )
    for function in functions:
        cells = " | ".join(f"{p.functions.get(function, 0.0):,.2f}" for p in profiles)
        lines.append(f"| {function} | {cells} |")
    requests = ", ".join(f"{p.kind} {p.requests:,}" for p in profiles)
    lines += ["", f"Requests profiled: {requests}."]
    return "\n".join(lines)


async def profile_kinds(opts: Options, root: Path) -> list[Profile]:
    cores = pick_cores()
    if cores.proxy is not None:
        os.sched_setaffinity(0, {cores.proxy})
    profiles: list[Profile] = []
    with (
        run_nginx(root / "nginx", cores.load) as nginx,
        (root / "proxy.log").open("w", encoding="utf-8") as log_file,
    ):
        port = free_port()
        config = validate_config(proxy_config(nginx, port, root / "usage.db", recording=True))
        settings = config.settings
        secrets = configure_logging(
            settings.log_level, "console", config.secrets(), stream=log_file
        )
        lines = RequestLines("console", settings.log_level, stream=log_file)
        app = create_app(config, AppOptions(request_lines=lines, log_secrets=secrets))
        server = await start_server(app, settings.host, port)
        settle_heap()
        url = f"http://127.0.0.1:{port}/v1/chat/completions"
        try:
            for kind in opts.kinds:
                body = client_request(kind, stream=kind == "sse")
                script = write_script(root / f"{kind}.lua", body, CLIENT_KEY)
                await run_wrk_async(
                    url, script, connections=1, duration_s=opts.warmup, cpu=cores.load
                )
                profiler = cProfile.Profile()
                profiler.enable()
                result = await run_wrk_async(
                    url, script, connections=1, duration_s=opts.seconds, cpu=cores.load
                )
                profiler.disable()
                if result.errors:
                    raise BenchError(f"{kind}: {result.error_summary()}")
                profiler.create_stats()
                calls = {key: row[1] for key, row in profiler.stats.items()}
                modules, functions = per_request(calls, result.requests)
                profiles.append(Profile(kind, result.requests, modules, functions))
        finally:
            await server.stop()
    return profiles


def _parse(argv: Sequence[str]) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="profiled seconds per kind")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of load before each")
    parser.add_argument("--only", choices=KINDS)
    parser.add_argument(
        "--min", type=float, default=0.5, dest="min_calls", help="smallest count listed"
    )
    args = parser.parse_args(argv)
    if min(args.seconds, args.warmup) < 1 or args.min_calls < 0:
        parser.error("--seconds and --warmup must be positive, --min not negative")
    kinds = (args.only,) if args.only else KINDS
    return Options(kinds, args.seconds, args.warmup, args.min_calls)


def main(argv: Sequence[str]) -> int:
    opts = _parse(argv)
    if nginx_binary() is None or wrk_binary() is None:
        print("needs nginx and wrk: apt-get install -y nginx wrk", file=sys.stderr)
        return 2

    def run() -> str:
        with tempfile.TemporaryDirectory(prefix="429chain-calls-") as tmp:
            profiles = uvloop.run(profile_kinds(opts, Path(tmp)))
        return report(profiles, opts.min_calls)

    return report_run("calls", run)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
