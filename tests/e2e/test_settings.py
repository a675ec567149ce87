"""The Settings page in a real browser against a proxy run from a config file: every setting
with its meaning; a change saved to the file (its comments kept), a restart-only one marked so;
a key replaced and shown as its label only; a read-only file; an API refusal next to its field;
a change made elsewhere in the meantime."""

from __future__ import annotations

import errno
from dataclasses import replace
from pathlib import Path

import pytest
from playwright.async_api import Page, expect
from pydantic.alias_generators import to_camel
from ruamel.yaml import YAML

from chain429.app import AppOptions
from chain429.config.save import LOCAL_FILES
from chain429.config.schema import Settings
from chain429.server import RunningServer
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_sign_in import sign_in
from tests.support.config_file import A_KEY, KEY_VARIABLE, api, start_file_proxy, write_config
from tests.support.proxy import ADMIN_KEY

NEW_CLIENT_KEY = "sk-test-client-from-the-page-5678"


@pytest.fixture
def config_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(KEY_VARIABLE, A_KEY)
    return write_config(tmp_path, "http://127.0.0.1:9/v1")


@pytest.fixture
async def proxy(proxy_factory, config_path: Path) -> RunningServer:
    return await start_file_proxy(proxy_factory, config_path)


def saved_settings(config_path: Path) -> dict:
    return YAML(typ="safe").load(config_path.read_text(encoding="utf-8"))["settings"]


async def open_settings(page: Page, proxy: RunningServer) -> None:
    await page.goto(f"{proxy.url}/settings")
    await sign_in(page, ADMIN_KEY)
    await expect(page.get_by_role("heading", name="Settings", level=1)).to_be_visible()
    await expect(page.get_by_role("form", name="Settings")).to_be_visible()


async def scroll_to_the_end(page: Page) -> None:
    """So the full-page screenshot shows the form's sticky Save bar where it ends, not over
    the settings in the middle."""
    await page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")


async def screenshot_at_1024(page: Page, request: pytest.FixtureRequest) -> None:
    """Beside the test's own 1280 px screenshot: test-artifacts/<test name>-1024.png."""
    await page.set_viewport_size({"width": 1024, "height": 800})
    overflow = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page scrolls sideways by {overflow} px at 1024 px"
    ARTIFACTS.mkdir(exist_ok=True)
    await scroll_to_the_end(page)
    await page.screenshot(path=ARTIFACTS / f"{request.node.name}-1024.png", full_page=True)
    await page.set_viewport_size({"width": 1280, "height": 800})


async def test_every_setting_of_the_schema_shows_with_its_meaning(
    page: Page, proxy, request: pytest.FixtureRequest
) -> None:
    await open_settings(page, proxy)
    for name, info in Settings.model_fields.items():
        row = page.locator(f'[data-setting="{to_camel(name)}"]')
        assert info.description, f"settings.{to_camel(name)} has no description"
        await expect(row).to_contain_text(info.description.replace("`", ""))
    port = page.locator('[data-setting="port"]')
    await expect(port).to_contain_text("applies after restart")
    await expect(page.locator('[data-setting="queueMode"]')).not_to_contain_text("restart")
    await expect(page.get_by_label("requestTimeoutMs")).to_have_value("5000")
    await expect(page.locator('[data-setting="apiKeys"]')).to_contain_text("Current: …")
    await screenshot_at_1024(page, request)


async def test_a_change_is_saved_to_the_file_with_its_comments(
    page: Page, proxy, config_path: Path
) -> None:
    await open_settings(page, proxy)
    save = page.get_by_role("button", name="Save settings")
    await expect(save).to_be_disabled()

    await page.get_by_label("queueMode").check()
    await page.get_by_label("cooldownDefaultMs").fill("45000")
    await expect(page.locator('[data-setting="cooldownDefaultMs"]')).to_contain_text("= 45 s")
    await page.get_by_label("port", exact=True).fill("3500")
    await save.click()

    notice = page.get_by_role("status").filter(has_text="Saved to the config file")
    await expect(notice).to_contain_text("port applies after a restart")
    await expect(page.get_by_label("cooldownDefaultMs")).to_have_value("45000")
    await expect(page.locator('[data-setting="port"]')).to_contain_text(
        "saved: applies after restart"
    )
    await expect(page.locator('[data-setting="host"]')).not_to_contain_text("saved")
    await expect(save).to_be_disabled()
    settings = saved_settings(config_path)
    assert (settings["queueMode"], settings["cooldownDefaultMs"], settings["port"]) == (
        True,
        45000,
        3500,
    )
    assert "probeWaitMs" not in settings, "only the settings changed are written"
    text = config_path.read_text(encoding="utf-8")
    assert "# 429chain: a hand-written config" in text and "# the clients" in text
    await scroll_to_the_end(page)


async def test_a_client_key_is_replaced_and_shown_as_its_label_only(
    page: Page, proxy, config_path: Path
) -> None:
    await open_settings(page, proxy)
    keys = page.get_by_role("group", name="apiKeys")
    await keys.get_by_role("button", name="Replace the apiKeys").click()
    await keys.get_by_label("New key 1", exact=True).fill(NEW_CLIENT_KEY)
    await page.get_by_role("button", name="Save settings").click()

    await expect(keys).to_contain_text("Current: …5678")
    assert NEW_CLIENT_KEY not in await page.content()
    assert saved_settings(config_path)["apiKeys"] == [NEW_CLIENT_KEY]


async def test_an_api_refusal_shows_next_to_its_field(page: Page, proxy) -> None:
    await open_settings(page, proxy)
    await page.get_by_label("corsOrigins").fill("localhost:5173")
    await page.get_by_role("button", name="Save settings").click()

    error = page.locator("#setting-corsOrigins-error")
    await expect(error).to_contain_text("'localhost:5173' is not an origin")
    await expect(page.get_by_label("corsOrigins")).to_have_attribute("aria-invalid", "true")
    await scroll_to_the_end(page)


async def test_a_change_made_elsewhere_meanwhile_offers_a_reload(
    page: Page, proxy, http, config_path: Path
) -> None:
    await open_settings(page, proxy)
    elsewhere = await api(http, proxy, "PATCH", "/api/settings", {"probeWaitMs": 1500})
    assert elsewhere.status == 200
    await page.get_by_label("queueMaxSize").fill("7")
    await page.get_by_role("button", name="Save settings").click()

    stale = page.get_by_role("alert").filter(has_text="Someone else changed the configuration")
    await expect(stale).to_be_in_viewport()
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=ARTIFACTS / "test_a_change_made_elsewhere-stale.png")
    assert "queueMaxSize" not in saved_settings(config_path)
    await stale.get_by_role("button", name="Reload settings").click()
    await expect(page.get_by_label("probeWaitMs")).to_have_value("1500")
    await expect(page.get_by_label("queueMaxSize")).to_have_value("100")


async def test_a_read_only_config_file_shows_why_and_disables_every_input(
    page: Page, proxy_factory, config_path: Path, request: pytest.FixtureRequest
) -> None:
    def read_only(path: Path) -> None:
        raise OSError(errno.EROFS, "Read-only file system", str(path))

    options = AppOptions(config_files=replace(LOCAL_FILES, probe=read_only))
    proxy = await start_file_proxy(proxy_factory, config_path, options)
    await open_settings(page, proxy)

    banner = page.get_by_role("status").filter(has_text="Read-only")
    await expect(banner.get_by_role("heading")).to_have_text("Read-only: changes cannot be saved")
    await expect(banner).to_contain_text("is read-only (Read-only file system)")
    await expect(banner).to_contain_text("mount it without ':ro'")
    await expect(page.get_by_label("port", exact=True)).to_be_disabled()
    await expect(page.get_by_label("queueMode")).to_be_disabled()
    await expect(page.get_by_label("logLevel")).to_be_disabled()
    await expect(page.get_by_role("button", name="Replace the apiKeys")).to_be_disabled()
    await expect(page.get_by_role("button", name="Save settings")).to_have_count(0)
    await screenshot_at_1024(page, request)


async def test_a_setting_the_environment_gives_is_locked_and_names_its_variable(
    page: Page, proxy_factory, config_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHAIN429_LOG_LEVEL", "debug")
    proxy = await start_file_proxy(proxy_factory, config_path)
    await open_settings(page, proxy)

    row = page.locator('[data-setting="logLevel"]')
    await expect(row.get_by_text("set by CHAIN429_LOG_LEVEL")).to_be_visible()
    await expect(page.get_by_label("logLevel")).to_be_disabled()
    await expect(page.get_by_label("logLevel")).to_have_value("debug")
    await expect(row).to_contain_text("The environment variable CHAIN429_LOG_LEVEL gives it")
    await expect(page.get_by_label("queueMode")).to_be_enabled()
    await row.scroll_into_view_if_needed()
    await page.screenshot(path=ARTIFACTS / "settings_set_by_environment.png")
