"""Free-tier scenarios: 429chain over simulated providers, driven by the official openai SDK.

Run with `make bench-scenarios` (or `.venv/bin/python bench/scenarios.py --help`). Each scenario
starts simulated providers with small windows and the proxy in front of them, in this process,
sends its load, and checks an acceptance criterion of issue #3: client success, upstream calls
and wasted calls (429s received) per provider, latency and time to first token. Prints a
markdown table and the evidence behind every check, and writes both to
bench/results/scenarios-<timestamp>.md. Exit 1 when a check fails, 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
import traceback
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Protocol

from chain429.logs import configure_logging
from scenario_defs import burst_learned, burst_manual, flaky_first, steady_over_limit
from scenario_dialects import DIALECTS, dialect_first
from scenario_exhaust import exhausted, exhausted_manual, exhausted_queue
from scenario_learning import cold_burst, cold_failing, header_less
from scenario_report import ScenarioResult, details, table

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"


class Scenario(Protocol):
    def __call__(self, *, quick: bool) -> Awaitable[ScenarioResult]: ...


SCENARIOS: dict[str, Scenario] = {
    "steady": steady_over_limit,
    "burst": burst_learned,
    "burst-manual": burst_manual,
    "exhausted": exhausted,
    "exhausted-queue": exhausted_queue,
    "exhausted-manual": exhausted_manual,
    "flaky": flaky_first,
    "flaky-early-drop": partial(flaky_first, drop_after_chunks=0),
    "cold-burst": cold_burst,
    "cold-failing": cold_failing,
    "header-less": header_less,
    "header-less-bare": partial(header_less, bare=True),
    **{f"dialect-{name}": partial(dialect_first, name) for name in DIALECTS},
}


def select(only: Sequence[str]) -> list[str]:
    """Scenario names matching `only` exactly or as a prefix (`dialect` selects all four)."""
    if not only:
        return list(SCENARIOS)
    chosen: list[str] = []
    for wanted in only:
        matches = [n for n in SCENARIOS if n == wanted] or [
            n for n in SCENARIOS if n.startswith(wanted)
        ]
        if not matches:
            raise SystemExit(f"unknown scenario '{wanted}'; --list shows them")
        chosen += [m for m in matches if m not in chosen]
    return chosen


async def run_scenario(name: str, *, quick: bool) -> ScenarioResult:
    """Run one scenario; a crash is a FAIL of that scenario, with its traceback as evidence."""
    started = time.perf_counter()
    try:
        result = await SCENARIOS[name](quick=quick)
    except Exception as exc:  # one broken scenario must not hide the others
        result = ScenarioResult(name)
        result.check("scenario ran to the end", False, f"{type(exc).__name__}: {exc}")
        result.note("traceback: " + " ⏎ ".join(traceback.format_exc().splitlines()[-6:]))
    result.name = name
    result.seconds = time.perf_counter() - started
    return result


async def run(
    names: Sequence[str], *, quick: bool, progress: Callable[[str], None]
) -> list[ScenarioResult]:
    results = []
    for name in names:
        progress(f"running {name} ...")
        result = await run_scenario(name, quick=quick)
        verdict = "SKIP" if result.skipped else ("PASS" if result.passed else "FAIL")
        progress(f"  {name}: {verdict} in {result.seconds:.1f} s")
        results.append(result)
    return results


def report(results: Sequence[ScenarioResult], *, quick: bool, stamp: str) -> str:
    failed = [r.name for r in results if not r.passed]
    summary = f"**{len(failed)} FAIL**: {', '.join(failed)}" if failed else "all PASS"
    return "\n".join(
        [
            f"# 429chain free-tier scenarios, {stamp}",
            "",
            f"Mode: {'quick' if quick else 'full'}; commit {_commit()}; "
            f"Python {sys.version.split()[0]}; {summary}.",
            "",
            table(results),
            "",
            "## Checks and evidence",
            "",
            details(results),
        ]
    )


def _commit() -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(BENCH_DIR), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out.stdout.strip()


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="shorter load (about half)")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NAME",
        help="run only this scenario (or those starting with NAME); repeatable",
    )
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    parser.add_argument(
        "--out",
        type=Path,
        default=RESULTS_DIR,
        help="directory for the report (default: %(default)s)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.list:
        print("\n".join(SCENARIOS))
        return 0
    names = select(args.only)
    configure_logging("warn", "console", [], stream=sys.stderr)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")

    def progress(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    results = asyncio.run(run(names, quick=args.quick, progress=progress))
    text = report(results, quick=args.quick, stamp=stamp)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"scenarios-{stamp}.md"
    path.write_text(text + "\n", encoding="utf-8")
    progress(f"written to {path}")
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
