"""The `429chain` command as a user runs it: version, init, check, and the demo end to end."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp
import openai
import pytest

from chain429 import __version__
from chain429.config.example import ADMIN_KEY_PREFIX, example_config
from chain429.demo import DEMO_ADMIN_KEY
from tests.support.configs import EXAMPLE_KEYS
from tests.support.demo_process import COMMAND, shown, start_demo, stop_demo
from tests.support.polling import eventually
from tests.support.usage_db import request_log

ROOT = Path(__file__).parents[2]
BASE_URL = r"OpenAI base URL\s+(http://\S+/v1)"
_GROQ, _CEREBRAS = "groq-sim/llama-3.1-8b-instant", "cerebras-sim/llama3.1-8b"
_OPENROUTER = "openrouter-sim/meta-llama/llama-3.3-70b-instruct:free"
DEMO_CHAINS = (
    f"\n  chain 'default': {_GROQ} -> {_CEREBRAS} -> {_OPENROUTER}"
    f"\n  chain 'fast': {_GROQ} -> {_CEREBRAS}\n"
)


def run(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*COMMAND, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
        check=False,
    )


def test_version(tmp_path: Path) -> None:
    done = run("--version", cwd=tmp_path)
    assert done.returncode == 0 and done.stdout.strip() == f"429chain {__version__}"


#: The example config with a made-up admin key, for tests that edit it.
EXAMPLE_CONFIG = example_config("adm-made-up-admin-key-0001")
ADMIN_KEY = re.compile(r"\(settings\.adminKeys\): (\S+)$", re.MULTILINE)


def test_init_writes_the_example_once_with_a_fresh_admin_key_printed_once(tmp_path: Path) -> None:
    target = tmp_path / "config" / "config.yaml"
    first = run("init", "--config", str(target), cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    (admin_key,) = ADMIN_KEY.findall(first.stdout)
    assert admin_key.startswith(ADMIN_KEY_PREFIX) and len(admin_key) >= 40
    assert first.stdout.count(admin_key) == 1 and admin_key not in first.stderr
    assert target.read_text() == example_config(admin_key)
    assert target.stat().st_mode & 0o777 == 0o600, "the file holds a key: its owner's only"
    other = run("init", "--config", str(tmp_path / "other.yaml"), cwd=tmp_path)
    assert ADMIN_KEY.findall(other.stdout) != [admin_key], "every init makes a new key"
    target.write_text("# mine\n" + EXAMPLE_CONFIG)
    again = run("init", "--config", str(target), cwd=tmp_path)
    assert again.returncode == 1 and "already exists" in again.stderr
    assert target.read_text().startswith("# mine")


def test_check_lists_a_valid_config_and_names_every_problem_of_a_bad_one(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    run("init", "--config", str(config), cwd=tmp_path)
    good = run("check", "--config", str(config), cwd=tmp_path, env=EXAMPLE_KEYS)
    assert good.returncode == 0, good.stderr
    assert "groq (groq) https://api.groq.com/openai/v1 - 1 key" in good.stdout
    assert "default (default): groq/llama-3.1-8b-instant -> cerebras/" in good.stdout
    assert not any(value in good.stdout + good.stderr for value in EXAMPLE_KEYS.values())

    missing = run("check", "--config", str(config), cwd=tmp_path, env={"GROQ_API_KEY": "x"})
    assert missing.returncode == 1
    assert "${CHAIN429_API_KEY} is not set" in missing.stderr

    config.write_text(EXAMPLE_CONFIG.replace("type: groq ", "type: groqq "))
    bad = run("check", "--config", str(config), cwd=tmp_path, env=EXAMPLE_KEYS)
    assert bad.returncode == 1
    assert "providers[0].type: unknown provider type 'groqq'; expected one of" in bad.stderr


#: A narrow terminal: whatever the CLI prints must still keep each message on one line.
NARROW = {"COLUMNS": "40"}


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines()]


def test_a_missing_config_says_how_to_create_it_on_one_line(tmp_path: Path) -> None:
    config = tmp_path / "configs" / "a-config-file-with-a-long-name.yaml"
    done = run("check", "--config", str(config), cwd=tmp_path, env=NARROW)
    assert done.returncode == 1
    hint = f"- {config}: no such file; create one with: 429chain init --config {config}"
    assert hint in _lines(done.stderr), done.stderr


def test_init_names_the_next_command_on_one_line(tmp_path: Path) -> None:
    config = tmp_path / "configs" / "a-config-file-with-a-long-name.yaml"
    done = run("init", "--config", str(config), cwd=tmp_path, env=NARROW)
    assert done.returncode == 0, done.stderr
    said = f"Wrote {config}. Set the keys it names, then: 429chain check --config {config}"
    assert said in _lines(done.stdout), done.stdout


def _check_edited_example(
    tmp_path: Path, old: str = "", new: str = "", **env: str
) -> subprocess.CompletedProcess[str]:
    """`429chain check` on the example config with `old` replaced by `new`."""
    config = tmp_path / "c.yaml"
    assert old in EXAMPLE_CONFIG
    config.write_text(EXAMPLE_CONFIG.replace(old, new, 1))
    return run(
        "check", "--config", str(config), cwd=tmp_path, env={**EXAMPLE_KEYS, **NARROW, **env}
    )


def test_check_names_a_misspelt_key_once_with_the_key_meant(tmp_path: Path) -> None:
    done = _check_edited_example(tmp_path, "defaultChain:", "defaultChian:")
    assert done.returncode == 1
    problems = [line for line in _lines(done.stderr) if line.startswith("- ")]
    assert problems == ["- settings.defaultChian: unknown key; did you mean 'defaultChain'?"]


def test_check_names_the_file_and_line_of_a_yaml_error(tmp_path: Path) -> None:
    done = _check_edited_example(tmp_path, "  port: 3429", "  port: 3429: 3430")
    assert done.returncode == 1
    assert (
        f"- {tmp_path / 'c.yaml'}, line 8, column 13: not valid YAML: mapping values" in done.stderr
    )
    assert "<unicode string>" not in done.stderr


def test_check_names_a_variable_that_is_set_but_empty(tmp_path: Path) -> None:
    done = _check_edited_example(tmp_path, GROQ_API_KEY="")
    assert done.returncode == 1
    assert "- providers[0].apiKey: environment variable ${GROQ_API_KEY} is set but empty" in (
        _lines(done.stderr)
    )


def test_check_uses_the_default_of_an_unset_variable(tmp_path: Path) -> None:
    done = _check_edited_example(
        tmp_path, "type: groq ", "baseUrl: '${GROQ_URL:-http://127.0.0.1:9/v1}'\n    type: groq "
    )
    assert done.returncode == 0, done.stderr
    assert "groq (groq) http://127.0.0.1:9/v1 - 1 key" in done.stdout


def test_check_refuses_a_boolean_written_as_text(tmp_path: Path) -> None:
    done = _check_edited_example(tmp_path, "# queueMode: false", 'queueMode: "yes"')
    assert done.returncode == 1
    assert "- settings.queueMode: must be true or false (a YAML boolean, unquoted)" in (
        _lines(done.stderr)
    )


def test_serve_checks_command_line_settings_like_the_file(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    run("init", "--config", str(config), cwd=tmp_path)
    done = run("serve", "--config", str(config), "--port", "70000", cwd=tmp_path, env=EXAMPLE_KEYS)
    assert done.returncode == 1
    assert "invalid settings on the command line" in done.stderr
    assert "settings.port: Input should be less than or equal to 65535" in done.stderr


async def _served_by(base_url: str, count: int) -> list[str]:
    """Which simulated provider served each of `count` example requests."""
    served_by = []
    async with openai.AsyncOpenAI(base_url=base_url, api_key="demo-key", max_retries=0) as c:
        for _ in range(count):
            raw = await c.chat.completions.with_raw_response.create(
                model="default", messages=[{"role": "user", "content": "Hello"}]
            )
            served_by.append(raw.headers["x-429chain-provider"].partition("/")[0])
            assert raw.parse().choices[0].message.content.startswith(f"[{served_by[-1]}]")
    return served_by


@pytest.mark.timeout(90)
async def test_demo_serves_requests_end_to_end_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    process, banner = await start_demo(tmp_path)
    try:
        base_url = re.search(BASE_URL, banner)
        assert base_url is not None, banner
        assert DEMO_CHAINS in banner, "every chain, with its entries"
        assert f"\n  {sys.executable} - <<'PY'\n" in banner, "the Python that has openai"
        served_by = await _served_by(base_url.group(1), 6)
        assert served_by[:3] == ["groq-sim"] * 3, "the first entry serves until its limit"
        assert served_by[3:] == ["cerebras-sim"] * 3, "then the chain moves down, no error"
    finally:
        output = await stop_demo(process)
    assert "Traceback" not in output
    assert list(tmp_path.iterdir()) == [], "the demo's database was temporary"


@pytest.mark.timeout(90)
async def test_the_demo_keeps_its_own_settings_whatever_the_shell_exports(
    tmp_path: Path,
) -> None:
    exported = {"CHAIN429_API_KEYS": "someone-elses-key", "CHAIN429_PORT": "1"}
    process, banner = await start_demo(tmp_path, env={**os.environ, **exported})
    try:
        base_url = re.search(BASE_URL, banner)
        assert base_url is not None, banner
        assert ":1/" not in base_url.group(1)
        assert await _served_by(base_url.group(1), 1) == ["groq-sim"], "demo-key still works"
    finally:
        await stop_demo(process)


@pytest.mark.timeout(120)
async def test_each_demo_run_starts_from_fresh_state(tmp_path: Path) -> None:
    """The simulators restart fresh, so nothing the last run learned may bench them."""
    for run_number in (1, 2):
        process, banner = await start_demo(tmp_path)
        try:
            base_url = re.search(BASE_URL, banner)
            assert base_url is not None, banner
            served_by = await _served_by(base_url.group(1), 4)
        finally:
            await stop_demo(process)
        assert served_by == ["groq-sim"] * 3 + ["cerebras-sim"], f"run {run_number}"


#: What an unclean stop prints: a traceback, a task left running or failed unseen, a request cut.
UNCLEAN = ("Traceback", "Task was destroyed", "never retrieved", "Unclosed", "client_closed")


async def _admin(http: aiohttp.ClientSession, method: str, url: str, body: object = None) -> Any:
    headers = {"Authorization": f"Bearer {DEMO_ADMIN_KEY}"}
    async with http.request(method, url, json=body, headers=headers) as answer:
        assert answer.status in (200, 201), await answer.text()
        return await answer.json()


@pytest.mark.timeout(90)
async def test_the_demo_prints_its_dashboard_and_admin_key_and_sends_traffic(
    tmp_path: Path,
) -> None:
    process, banner = await start_demo(tmp_path, ("--traffic-interval", "0.05"))
    try:
        url = shown(banner, "dashboard").removesuffix("/")
        path = Path(shown(banner, "config file"))
        assert f"\n  admin key        {DEMO_ADMIN_KEY}  (sign in" in banner
        assert "\n  traffic          a request every 0.025-0.075 s on chains 'default'" in banner
        async with aiohttp.ClientSession() as http:
            providers = await _admin(http, "GET", f"{url}/api/providers")
            assert [p["id"] for p in providers["providers"]] == [
                "groq-sim",
                "cerebras-sim",
                "openrouter-sim",
            ]
            chain = {"name": "mine", "entries": [{"provider": "groq-sim", "model": "m"}]}
            await _admin(http, "POST", f"{url}/api/chains", chain)
            assert "name: mine" in path.read_text(), "the dashboard's edits go to the file"

            async def traffic() -> bool:
                rows = await request_log(http, url, key=DEMO_ADMIN_KEY)
                chains = {r["chain"] for r in rows}
                fell_through = any(len(r["attempts"]) > 1 for r in rows)
                return chains >= {"default", "fast"} and fell_through

            await eventually(
                traffic, timeout=30, what="the trickle on both chains, falling through"
            )
    finally:
        output = await stop_demo(process)
    assert not [word for word in UNCLEAN if word in output], output
    assert not path.parent.exists(), "the config file was temporary"


@pytest.mark.timeout(60)
async def test_without_traffic_the_demo_sends_nothing_itself(tmp_path: Path) -> None:
    process, banner = await start_demo(tmp_path, ("--no-traffic", "--traffic-interval", "0.01"))
    try:
        url = shown(banner, "dashboard").removesuffix("/")
        assert "\n  traffic          off (" in banner
        async with aiohttp.ClientSession() as http:
            await _served_by(f"{url}/v1", 1)
            await eventually(
                lambda: request_log(http, url, key=DEMO_ADMIN_KEY), what="our request in the log"
            )
            # The trickle, were it on, sends its first request at once: it would be logged
            # together with ours.
            rows = await request_log(http, url, key=DEMO_ADMIN_KEY)
        assert len(rows) == 1, rows
    finally:
        output = await stop_demo(process)
    assert "Traceback" not in output
