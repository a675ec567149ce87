"""The package build carries the dashboard: a wheel built from a copy of the checkout holds
`chain429/web` (built then, from ui/) and the migrations, and so does a wheel built from the
sdist on a machine without Node.js. Offline: `python -m build --no-isolation` in this
environment, reusing the checkout's `ui/node_modules` (installed by `make setup`)."""

from __future__ import annotations

import shutil
import tarfile
from pathlib import Path

import pytest

from tests.support.package_build import build, check_wheel, copy_checkout


@pytest.mark.timeout(600)
def test_wheels_carry_the_dashboard_and_the_migrations(tmp_path: Path) -> None:
    if shutil.which("npm") is None:
        pytest.fail("the package build needs npm here (make setup installs the dashboard's)")
    checkout = copy_checkout(tmp_path / "checkout")
    assert not (checkout / "src" / "chain429" / "web").exists()
    wheel, said = build("wheel", checkout, tmp_path / "wheel")
    assert "dashboard: building ui/" in said
    check_wheel(wheel)

    sdist, _ = build("sdist", checkout, tmp_path / "sdist")
    with tarfile.open(sdist) as archive:
        archive.extractall(tmp_path / "unpacked", filter="data")
    (unpacked,) = (tmp_path / "unpacked").iterdir()
    no_node = tmp_path / "no-node"
    no_node.mkdir()
    wheel, said = build("wheel", unpacked, tmp_path / "from-sdist", path=str(no_node))
    assert "dashboard: up to date" in said, "the sdist carries ui/ and the build made of it"
    check_wheel(wheel)
