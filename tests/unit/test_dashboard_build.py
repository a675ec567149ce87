"""The dashboard build script does only what changed: the build when ui/ changed, `npm ci` when
the lockfile did; without npm it uses a build that exists, or says what to install."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from build_support.dashboard_build import (
    LOCK_HASH,
    SOURCE_HASH,
    DashboardBuild,
    DashboardBuildError,
    run_command,
    source_hash,
)

NPM = "/usr/bin/npm"


class Recorder:
    """Stands in for the commands: records them; `npm run build` writes an index.html."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.commands: list[str] = []

    def __call__(self, command: list[str], cwd: Path) -> None:
        assert cwd == self.root / "ui"
        self.commands.append(" ".join(command[1:]))
        if command[1:] == ["ci"]:
            (cwd / "node_modules").mkdir(exist_ok=True)
        if command[1:] == ["run", "build"]:
            web = self.root / "src" / "chain429" / "web"
            web.mkdir(parents=True, exist_ok=True)
            (web / "index.html").write_text("<!DOCTYPE html>")


def checkout(root: Path) -> Path:
    ui = root / "ui"
    (ui / "src").mkdir(parents=True)
    (ui / "package.json").write_text('{"name": "ui"}')
    (ui / "package-lock.json").write_text('{"lockfileVersion": 3}')
    (ui / "src" / "main.tsx").write_text("export {};")
    return root


def dashboard(root: Path, npm: str | None = NPM) -> tuple[DashboardBuild, Recorder, list[str]]:
    recorder, said = Recorder(root), []
    build = DashboardBuild(root=root, run=recorder, which=lambda _: npm, say=said.append)
    return build, recorder, said


def test_a_fresh_checkout_installs_builds_and_records_what_it_built(tmp_path: Path) -> None:
    root = checkout(tmp_path)
    build, recorder, _ = dashboard(root)
    build.ensure()
    assert recorder.commands == ["ci", "run build"]
    assert (build.web / SOURCE_HASH).read_text().strip() == source_hash(root / "ui")
    assert (root / "ui" / "node_modules" / LOCK_HASH).is_file()


def test_unchanged_sources_build_nothing(tmp_path: Path) -> None:
    root = checkout(tmp_path)
    dashboard(root)[0].ensure()
    build, recorder, said = dashboard(root)
    build.ensure()
    assert recorder.commands == [] and said == ["up to date"]


def test_a_changed_source_builds_again_without_npm_ci(tmp_path: Path) -> None:
    root = checkout(tmp_path)
    dashboard(root)[0].ensure()
    (root / "ui" / "src" / "main.tsx").write_text("export const changed = 1;")
    build, recorder, _ = dashboard(root)
    build.ensure()
    assert recorder.commands == ["run build"]


def test_a_new_source_file_counts_as_a_change_and_node_modules_does_not(tmp_path: Path) -> None:
    root = checkout(tmp_path)
    before = source_hash(root / "ui")
    (root / "ui" / "node_modules" / "react").mkdir(parents=True)
    (root / "ui" / "node_modules" / "react" / "index.js").write_text("")
    assert source_hash(root / "ui") == before
    (root / "ui" / "src" / "page.tsx").write_text("")
    assert source_hash(root / "ui") != before


def test_a_changed_lockfile_runs_npm_ci_again(tmp_path: Path) -> None:
    root = checkout(tmp_path)
    dashboard(root)[0].ensure()
    (root / "ui" / "package-lock.json").write_text('{"lockfileVersion": 3, "packages": {}}')
    build, recorder, said = dashboard(root)
    build.ensure()
    assert recorder.commands == ["ci", "run build"]
    assert "npm ci (ui/package-lock.json changed)" in said


def test_without_npm_or_a_build_the_error_says_what_to_install(tmp_path: Path) -> None:
    build, recorder, _ = dashboard(checkout(tmp_path), npm=None)
    with pytest.raises(DashboardBuildError, match=r"needs Node\.js 20\+ with npm"):
        build.ensure()
    assert recorder.commands == []


def test_without_npm_an_existing_build_is_packaged_as_it_is(tmp_path: Path) -> None:
    root = checkout(tmp_path)
    dashboard(root)[0].ensure()
    (root / "ui" / "src" / "main.tsx").write_text("export const changed = 1;")
    build, recorder, said = dashboard(root, npm=None)
    build.ensure()
    assert recorder.commands == []
    assert said == ["npm not found: packaging the build in src/chain429/web as it is"]


def test_without_sources_a_build_is_used_and_without_both_it_is_an_error(tmp_path: Path) -> None:
    build, recorder, _ = dashboard(tmp_path, npm=None)
    with pytest.raises(DashboardBuildError, match="neither the dashboard's sources"):
        build.ensure()
    build.web.mkdir(parents=True)
    (build.web / "index.html").write_text("<!DOCTYPE html>")
    build.ensure()
    assert recorder.commands == []


def test_a_failing_command_names_itself_and_its_exit_code(tmp_path: Path) -> None:
    with pytest.raises(DashboardBuildError, match=r"exit code 3"):
        run_command([sys.executable, "-c", "raise SystemExit(3)"], tmp_path)
