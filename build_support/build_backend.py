"""The package's build backend: setuptools', building the dashboard into the package first
(`dashboard_build`) for every sdist and wheel, so both carry it. An editable install serves
the checkout's own `src/chain429/web/`, which `make setup` builds."""

from __future__ import annotations

from typing import Any

from setuptools import build_meta
from setuptools.build_meta import (
    build_editable,
    get_requires_for_build_editable,
    get_requires_for_build_sdist,
    get_requires_for_build_wheel,
    prepare_metadata_for_build_editable,
    prepare_metadata_for_build_wheel,
)

from dashboard_build import DashboardBuild

__all__ = [
    "build_editable",
    "build_sdist",
    "build_wheel",
    "get_requires_for_build_editable",
    "get_requires_for_build_sdist",
    "get_requires_for_build_wheel",
    "prepare_metadata_for_build_editable",
    "prepare_metadata_for_build_wheel",
]


def build_sdist(sdist_directory: str, config_settings: dict[str, Any] | None = None) -> str:
    DashboardBuild().ensure()
    name: str = build_meta.build_sdist(sdist_directory, config_settings)
    return name


def build_wheel(
    wheel_directory: str,
    config_settings: dict[str, Any] | None = None,
    metadata_directory: str | None = None,
) -> str:
    DashboardBuild().ensure()
    name: str = build_meta.build_wheel(wheel_directory, config_settings, metadata_directory)
    return name
