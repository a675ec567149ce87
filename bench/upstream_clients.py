"""Upstream clients compared: 429chain with aiohttp's client and with pyreqwest's, beside the
bare relay, in requests/s (issue 14).

Run with `make bench-upstream-clients` (or `.venv/bin/python bench/upstream_clients.py --help`).
The set-up of `make bench` (bench/overhead.py): nginx and wrk on one core; the relay and two
proxies, `429chain serve` and `429chain serve --upstream-client pyreqwest`, pinned to the other
(all three up for the whole run, the ones not loaded idle). Each round measures the three
targets one after the other, starting with a different one each round (relay, aiohttp,
pyreqwest; then aiohttp, pyreqwest, relay; ...), so a slow spell on the shared machine does not
always fall on the same one. Ratios are taken within a round. Prints a markdown table and
writes it to bench/results/upstream-clients-<timestamp>.md. Exit 2 when a tool is missing, 1
when a run fails.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from nginx import run_nginx
from overhead import (
    Cores,
    Measurement,
    Options,
    measure,
    missing_tools,
    pick_cores,
    report_run,
)
from overhead_table import ratio
from payloads import CLIENT_KEY, client_request
from probe import check_answer
from proxy_process import (
    KINDS,
    context_switches,
    run_proxy,
    run_relay,
    upstream_client_args,
)
from rotation import Cell, Round, cpu_us, medians, parsed, ratio_spreads, round_options
from rotation import round_order as rotated
from wrk import write_script

TARGETS = ("relay", "aiohttp", "pyreqwest")
#: The ratios the table shows: target / base, within each round.
RATIOS = (("aiohttp", "relay"), ("pyreqwest", "relay"), ("pyreqwest", "aiohttp"))


@dataclass(frozen=True, slots=True)
class ClientRound(Round):
    """One round of a cell: requests/s, CPU µs and context switches per request of each
    target (the switches of all its threads, warm-up included)."""

    switches: dict[str, float]


#: Made unparametrised: a call of `Cell[ClientRound]` sets `__orig_class__`, which a frozen
#: dataclass refuses; annotations say `Cell[ClientRound]`.
ClientCell = Cell


def round_order(index: int) -> tuple[str, ...]:
    """The targets in the order round `index` measures them."""
    return rotated(TARGETS, index)


def clients_table(cells: Sequence[Cell[ClientRound]]) -> str:
    """One row per answer kind and connection count: medians, and per-round ratios' spreads."""
    lines = [
        "| stream | conns | relay req/s | aiohttp req/s | pyreqwest req/s | "
        "aiohttp/relay min / med / max | pyreqwest/relay min / med / max | "
        "pyreqwest/aiohttp min / med / max | CPU µs/req relay, aiohttp, pyreqwest | "
        "context switches/req relay, aiohttp, pyreqwest |",
        "| --- | ---: | ---: | ---: | ---: | --- | --- | --- | --- | --- |",
    ]
    for cell in cells:
        rps = medians(cell.rounds, "rps", TARGETS)
        cpu = medians(cell.rounds, "cpu_us", TARGETS)
        switches = medians(cell.rounds, "switches", TARGETS)
        spreads = ratio_spreads(cell.rounds, RATIOS)
        lines.append(
            f"| {cell.kind} | {cell.connections} | "
            + " | ".join(f"{rps[t]:,.0f}" for t in TARGETS)
            + " | "
            + " | ".join(spreads)
            + " | "
            + ", ".join(f"{cpu[t]:.0f}" for t in TARGETS)
            + " | "
            + ", ".join(f"{switches[t]:.2f}" for t in TARGETS)
            + " |"
        )
    return "\n".join(lines)


def measure_cells(
    urls: dict[str, dict[str, str]],
    pids: dict[str, int],
    scripts: dict[str, Path],
    opts: Options,
    cores: Cores,
) -> list[Cell[ClientRound]]:
    cells = []
    for kind in opts.kinds:
        for connections in opts.connections:
            rounds = []
            for index in range(opts.rounds):
                measured: dict[str, Measurement] = {}
                switches: dict[str, float] = {}
                for target in round_order(index):
                    before = context_switches(pids[target])
                    taken = measure(
                        urls[target][kind], scripts[kind], connections, opts, cores, pids[target]
                    )
                    measured[target] = taken
                    switched = context_switches(pids[target]) - before
                    switches[target] = ratio(switched, taken.completed)
                this = ClientRound(
                    {t: m.result.rps for t, m in measured.items()},
                    {t: cpu_us(m) for t, m in measured.items()},
                    switches,
                )
                rounds.append(this)
                print(
                    f"  {kind:4} c={connections:<4} round {index + 1}: "
                    + "  ".join(f"{t} {this.rps[t]:>8,.0f}" for t in TARGETS)
                    + f" req/s   pyreqwest/aiohttp {this.per('pyreqwest', 'aiohttp'):.3f}",
                    file=sys.stderr,
                    flush=True,
                )
            cells.append(ClientCell(kind, connections, tuple(rounds)))
    return cells


def run(opts: Options) -> str:
    cores = pick_cores()
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="429chain-clients-") as tmp, ExitStack() as stack:
        root = Path(tmp)
        scripts = {
            kind: write_script(
                root / f"{kind}.lua", client_request(kind, stream=kind == "sse"), CLIENT_KEY
            )
            for kind in opts.kinds
        }
        nginx = stack.enter_context(run_nginx(root / "nginx", cores.load))
        relay = stack.enter_context(run_relay(root / "relay", nginx, cores.proxy))
        urls = {"relay": {kind: relay.chat_url(kind) for kind in opts.kinds}}
        pids = {"relay": relay.pid}
        for client in TARGETS[1:]:
            proxy = stack.enter_context(
                run_proxy(
                    root / client,
                    nginx,
                    cores.proxy,
                    recording=True,
                    serve_args=upstream_client_args(client),
                )
            )
            urls[client] = {kind: proxy.url for kind in opts.kinds}
            pids[client] = proxy.pid
        for target in TARGETS:
            for kind in opts.kinds:
                check_answer(urls[target][kind], kind)
        cells = measure_cells(urls, pids, scripts, opts, cores)
    stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    lines = [
        f"# 429chain upstream clients, {stamp}",
        "",
        f"- {cores.describe()}; 1-minute load average before the run: {load:.2f}",
        f"- wrk: 1 thread, {opts.duration_s} s per run after {opts.warmup_s} s of warm-up; "
        f"{opts.rounds} rounds, the order of the targets rotating; req/s and CPU are "
        "medians over the rounds, ratios min / median / max of the per-round ratios; "
        "recording on",
        "",
        clients_table(cells),
    ]
    return "\n".join(lines) + "\n"


def parse_args(argv: Sequence[str]) -> Options:
    parser = round_options(__doc__.split("\n\n")[0], rounds=3, concurrency=(1, 32))
    parser.add_argument("--only", choices=KINDS, help="measure only JSON or only SSE")
    args = parsed(parser, argv)
    return Options(
        duration_s=args.duration,
        warmup_s=args.warmup,
        rounds=args.rounds,
        connections=args.concurrency,
        kinds=(args.only,) if args.only else KINDS,
        recordings=(True,),
    )


def main(argv: Sequence[str]) -> int:
    opts = parse_args(argv)
    if problems := missing_tools():
        print("\n".join(problems), file=sys.stderr)
        return 2
    return report_run("upstream-clients", lambda: run(opts))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
