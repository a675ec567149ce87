"""axe-core run over a page of the dashboard: the script comes from `ui/node_modules` (pinned by
the lock file, nothing fetched), and a serious or critical violation fails the test with each
rule's id, its help text and the elements at fault."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import pytest
from playwright.async_api import Page

AXE_SCRIPT: Final = (
    Path(__file__).resolve().parents[2] / "ui" / "node_modules" / "axe-core" / "axe.min.js"
)
FAILING_IMPACTS: Final = frozenset({"serious", "critical"})

_RUN_AXE: Final = """
async () => {
  const results = await window.axe.run(document, { resultTypes: ["violations"] });
  return results.violations.map((violation) => ({
    id: violation.id,
    impact: violation.impact,
    help: violation.help,
    targets: violation.nodes.map((node) => node.target.join(" ")),
  }));
}
"""


def describe(violation: dict[str, Any]) -> str:
    targets = "\n".join(f"    {target}" for target in violation["targets"])
    return f"  {violation['id']} ({violation['impact']}): {violation['help']}\n{targets}"


async def assert_accessible(page: Page, context_name: str) -> None:
    """Fails when axe finds a serious or critical violation on `page` as it is now."""
    if not AXE_SCRIPT.is_file():
        pytest.fail(f"{AXE_SCRIPT} is missing: run make setup (npm ci in ui/)")
    if not await page.evaluate("() => typeof window.axe === 'object'"):
        await page.add_script_tag(path=AXE_SCRIPT)
    violations: list[dict[str, Any]] = await page.evaluate(_RUN_AXE)
    failing = [v for v in violations if v["impact"] in FAILING_IMPACTS]
    if failing:
        listed = "\n".join(describe(v) for v in failing)
        pytest.fail(f"axe: {len(failing)} serious or critical on {context_name}:\n{listed}")
