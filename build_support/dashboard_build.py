"""Build the dashboard (`ui/`) into the Python package (`src/chain429/web/`) when its sources
changed: the one place that knows how, run by `make setup` (as a script) and by the package
build (`build_backend.py`, before every sdist and wheel).

- The build records the hash of the sources it was made from (`web/source-hash.txt`); when the
  sources still hash the same, there is nothing to do.
- `npm ci` runs only when `ui/package-lock.json` changed since it last ran (the lockfile's hash
  is kept in `ui/node_modules/`), or `node_modules` is missing.
- Without npm, an existing build is used as it is (an sdist carries its build: a wheel made from
  it needs no Node.js); with no build either, the error says what to install.

Standard library only: it runs before any virtual environment exists, and inside the build
backend.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

ROOT: Final = Path(__file__).resolve().parent.parent
UI: Final = "ui"
WEB: Final = "src/chain429/web"
SOURCE_HASH: Final = "source-hash.txt"
LOCK_HASH: Final = ".chain429-lock-hash"
LOCKFILE: Final = "package-lock.json"
MODULES: Final = "node_modules"

Run = Callable[[list[str], Path], None]
Say = Callable[[str], None]


class DashboardBuildError(Exception):
    """The dashboard cannot be built, and no build exists to use instead."""


def run_command(command: list[str], cwd: Path) -> None:
    """Run `command` in `cwd`, its output going to ours; a failure is a DashboardBuildError."""
    try:
        subprocess.run(command, cwd=cwd, check=True)
    except subprocess.CalledProcessError as exc:
        raise DashboardBuildError(
            f"`{' '.join(command)}` in {cwd} failed (exit code {exc.returncode})"
        ) from exc


def say_on_stderr(text: str) -> None:
    print(f"dashboard: {text}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class DashboardBuild:
    """The dashboard of the checkout (or unpacked sdist) at `root`."""

    root: Path = ROOT
    run: Run = run_command
    which: Callable[[str], str | None] = shutil.which
    say: Say = field(default=say_on_stderr)

    @property
    def ui(self) -> Path:
        return self.root / UI

    @property
    def web(self) -> Path:
        return self.root / WEB

    def ensure(self) -> None:
        """Make `web/` a build of the current sources, doing only what changed."""
        built = (self.web / "index.html").is_file()
        if not (self.ui / "package.json").is_file():
            if built:
                return  # an unpacked sdist without ui/: its build is all there is
            raise DashboardBuildError(
                f"neither the dashboard's sources ({self.ui}) nor a build of them ({self.web})"
            )
        sources = source_hash(self.ui)
        if built and _read(self.web / SOURCE_HASH) == sources:
            self.say("up to date")
            return
        npm = self.which("npm")
        if npm is None:
            if built:
                self.say("npm not found: packaging the build in src/chain429/web as it is")
                return
            raise DashboardBuildError(
                "building the dashboard (ui/) needs Node.js 20+ with npm, and npm is not on "
                "PATH; install them (e.g. apt-get install nodejs npm) and build again"
            )
        self._install(npm)
        self.say("building ui/ into src/chain429/web")
        self.run([npm, "run", "build"], self.ui)
        if not (self.web / "index.html").is_file():
            raise DashboardBuildError(f"`npm run build` left no index.html in {self.web}")
        (self.web / SOURCE_HASH).write_text(sources + "\n", encoding="utf-8")

    def _install(self, npm: str) -> None:
        """`npm ci`, unless `node_modules` was installed from the lockfile as it is now."""
        lock = file_hash(self.ui / LOCKFILE)
        marker = self.ui / MODULES / LOCK_HASH
        if _read(marker) == lock:
            return
        self.say(f"npm ci ({UI}/{LOCKFILE} changed)")
        self.run([npm, "ci"], self.ui)
        marker.write_text(lock + "\n", encoding="utf-8")


def source_hash(ui: Path) -> str:
    """The SHA-256 of every file under `ui` (but `node_modules`): their paths and contents."""
    digest = hashlib.sha256()
    for path in _sources(ui):
        digest.update(path.relative_to(ui).as_posix().encode() + b"\0")
        digest.update(file_hash(path).encode() + b"\0")
    return digest.hexdigest()


def _sources(ui: Path) -> Iterator[Path]:
    for path in sorted(ui.rglob("*")):
        if path.is_file() and MODULES not in path.relative_to(ui).parts:
            yield path


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None


def main() -> int:
    try:
        DashboardBuild().ensure()
    except DashboardBuildError as exc:
        say_on_stderr(f"error: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
