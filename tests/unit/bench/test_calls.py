"""The calls-per-request benchmark's pure parts: naming modules, counting per request, the
report."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

import pytest

BENCH_DIR = Path(__file__).resolve().parents[3] / "bench"
SITE = "/venv/lib/python3.11/site-packages"


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """bench/calls.py, imported the way the scripts import it (flat, from bench/)."""
    monkeypatch.syspath_prepend(str(BENCH_DIR))
    return importlib.import_module("calls")


@pytest.mark.parametrize(
    ("filename", "module"),
    [
        ("/work/src/chain429/router/waterfall.py", "chain429.router.waterfall"),
        ("/work/src/chain429/clock.py", "chain429.clock"),
        (f"{SITE}/chain429/usage/tally.py", "chain429.usage.tally"),
        (f"{SITE}/aiohttp/web_protocol.py", "aiohttp"),
        (f"{SITE}/typing_extensions.py", "typing_extensions"),
        ("/usr/lib/python3.11/asyncio/timeouts.py", "stdlib:timeouts"),
        ("<frozen abc>", "stdlib:<frozen abc>"),
        ("~", "builtins"),
    ],
)
def test_every_function_is_named_by_its_module(
    calls: ModuleType, filename: str, module: str
) -> None:
    assert calls.module_of(filename) == module


def test_calls_are_counted_per_request_by_module_and_ours_by_function(calls: ModuleType) -> None:
    counted = {
        ("/src/chain429/router/walk.py", 40, "__init__"): 200,
        ("/src/chain429/router/walk.py", 90, "attempted"): 100,
        (f"{SITE}/aiohttp/streams.py", 463, "readany"): 400,
        ("~", 0, "<built-in method builtins.isinstance>"): 1000,
    }

    modules, functions = calls.per_request(counted, 100)

    assert modules == {"chain429.router.walk": 3.0, "aiohttp": 4.0, "builtins": 10.0}
    assert functions == {
        "chain429.router.walk:40 __init__": 2.0,
        "chain429.router.walk:90 attempted": 1.0,
    }


def test_no_request_is_a_failed_run(calls: ModuleType) -> None:
    with pytest.raises(calls.BenchError, match="no request"):
        calls.per_request({}, 0)


def test_the_report_lists_modules_by_count_and_our_functions_above_the_floor(
    calls: ModuleType,
) -> None:
    json = calls.Profile(
        "json",
        1000,
        {"aiohttp": 200.0, "chain429.router.walk": 11.0, "stdlib:enum": 0.2},
        {"chain429.router.walk:40 __init__": 1.0, "chain429.router.walk:99 rare": 0.1},
    )
    sse = calls.Profile(
        "sse",
        500,
        {"aiohttp": 250.0, "chain429.router.walk": 12.0},
        {"chain429.router.walk:40 __init__": 1.0},
    )

    text = calls.report([json, sse], 0.5)

    assert "| module | json | sse |" in text
    assert "| **all** | **211.2** | **262.0** |" in text
    assert "| **429chain** | **11.0** | **12.0** |" in text
    assert text.index("| aiohttp | 200.00 | 250.00 |") < text.index("| chain429.router.walk |")
    assert "stdlib:enum" not in text
    assert "| chain429.router.walk:40 __init__ | 1.00 | 1.00 |" in text
    assert "rare" not in text
    assert "Requests profiled: json 1,000, sse 500." in text
