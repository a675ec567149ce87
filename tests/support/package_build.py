"""Building the package as a user or CI does: `python -m build --no-isolation` (offline, in
this environment) of a copy of the checkout, reusing its `ui/node_modules` (installed by
`make setup`); and what every wheel must carry."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from build_support.dashboard_build import LOCK_HASH, LOCKFILE, MODULES, UI, file_hash

ROOT = Path(__file__).parents[2]
ASSET = re.compile(r'(?:src|href)="/(assets/[^"]+)"')


def copy_checkout(target: Path) -> Path:
    """The checkout's files (tracked, or new and not ignored) without any build, its
    node_modules linked in."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout
    for name in filter(None, listed.decode().split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    modules = ROOT / UI / MODULES
    # npm ci would empty the linked folder, the checkout's own: it must have nothing to do.
    if (modules / LOCK_HASH).read_text().strip() != file_hash(ROOT / UI / LOCKFILE):
        pytest.fail("ui/node_modules is not installed from the lockfile as it is: make setup")
    (target / UI / MODULES).symlink_to(modules, target_is_directory=True)
    return target


def build(kind: str, source: Path, out: Path, path: str | None = None) -> tuple[Path, str]:
    """`python -m build --<kind>` of `source` into `out` (with PATH set to `path`, if given):
    what it built, and what it said."""
    env = None if path is None else {"PATH": path, "HOME": str(out)}
    done = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", f"--{kind}", "--outdir", str(out)],
        cwd=source,
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (built,) = out.glob("*.whl" if kind == "wheel" else "*.tar.gz")
    return built, done.stdout + done.stderr


def check_wheel(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "chain429/web/index.html" in names
    index = zipfile.ZipFile(wheel).read("chain429/web/index.html").decode()
    assets = ASSET.findall(index)
    assert any(re.fullmatch(r"assets/index-[\w-]{8}\.js", a) for a in assets), index
    assert {f"chain429/web/{asset}" for asset in assets} <= names, "every asset it loads"
    assert {"chain429/usage/migrations/env.py", "chain429/usage/migrations/script.py.mako"} <= names
    assert any(re.fullmatch(r"chain429/usage/migrations/versions/v0001_\w+\.py", n) for n in names)
