"""Signing in to the dashboard in a real browser against a real proxy: an admin key lands on the
page asked for, inside the layout; a wrong key is refused with the API's message."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from chain429.server import RunningServer
from tests.e2e.conftest import ARTIFACTS
from tests.support.config_file import KEY_VARIABLE, start_file_proxy, write_config
from tests.support.proxy import ADMIN_KEY, CLIENT_KEY, make_config

#: The admin key the config file is changed to while the dashboard is signed in with the old one.
ROTATED_ADMIN_KEY = "adm-test-rotated-admin-key-0002"

PAGES = ["Overview", "Requests", "Limits", "Providers", "Chains", "Playground", "Settings"]


@pytest.fixture
async def proxy(proxy_factory) -> RunningServer:
    return await proxy_factory(make_config([("a", "http://127.0.0.1:9/v1")], admin=True))


async def sign_in(page: Page, key: str) -> None:
    await page.get_by_label("Admin key").fill(key)
    await page.get_by_role("button", name="Sign in").click()


async def test_an_admin_key_signs_in_to_the_page_asked_for(page: Page, proxy) -> None:
    await page.goto(f"{proxy.url}/limits")
    await expect(page).to_have_url(re.compile(r"/sign-in\?next=%2Flimits$"))

    await sign_in(page, ADMIN_KEY)

    await expect(page).to_have_url(f"{proxy.url}/limits")
    await expect(page.get_by_role("heading", name="Limits", level=1)).to_be_visible()
    navigation = page.get_by_role("navigation", name="Dashboard")
    for name in PAGES:
        await expect(navigation.get_by_role("link", name=name)).to_be_visible()
    await expect(navigation.get_by_role("link", name="Limits")).to_have_attribute(
        "aria-current", "page"
    )
    stored = await page.evaluate("sessionStorage.getItem('429chain.adminKey')")
    assert stored == ADMIN_KEY

    await navigation.get_by_role("link", name="Overview").click()
    await expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()


async def test_a_wrong_key_is_refused_with_the_api_message(page: Page, proxy) -> None:
    await page.goto(f"{proxy.url}/")

    await sign_in(page, "adm-not-a-key-of-this-proxy")

    await expect(page.get_by_role("alert")).to_have_text(
        "This key was refused: Incorrect API key provided."
    )
    await expect(page).to_have_url(re.compile(r"/sign-in"))
    assert await page.evaluate("sessionStorage.getItem('429chain.adminKey')") is None


async def test_a_client_key_is_refused_as_not_an_admin_key(page: Page, proxy) -> None:
    await page.goto(f"{proxy.url}/sign-in")

    await sign_in(page, CLIENT_KEY)

    await expect(page.get_by_role("alert")).to_contain_text("needs an admin key")
    assert await page.evaluate("sessionStorage.getItem('429chain.adminKey')") is None


async def test_a_key_refused_after_sign_in_returns_to_sign_in_then_to_the_page(
    page: Page, proxy_factory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_VARIABLE, "sk-test-a-key-from-env-0000aaaa")
    config_path = write_config(tmp_path, "http://127.0.0.1:9/v1")
    proxy = await start_file_proxy(proxy_factory, config_path)
    await page.goto(f"{proxy.url}/providers")
    await sign_in(page, ADMIN_KEY)
    await expect(page.get_by_role("heading", name="Providers", level=1)).to_be_visible()

    text = config_path.read_text(encoding="utf-8")
    config_path.write_text(text.replace(ADMIN_KEY, ROTATED_ADMIN_KEY), encoding="utf-8")
    reload = await page.request.post(
        f"{proxy.url}/api/config/reload", headers={"Authorization": f"Bearer {ADMIN_KEY}"}
    )
    assert reload.ok, await reload.text()
    await (
        page.get_by_role("navigation", name="Dashboard").get_by_role("link", name="Chains").click()
    )

    await expect(page).to_have_url(re.compile(r"/sign-in\?next=%2Fchains$"))
    await expect(page.get_by_role("status")).to_have_text(
        "The proxy refused your admin key: Incorrect API key provided. "
        "Sign in again to return to this page."
    )
    assert await page.evaluate("sessionStorage.getItem('429chain.adminKey')") is None
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=ARTIFACTS / "sign_in_after_a_refused_key.png")

    await sign_in(page, ROTATED_ADMIN_KEY)

    await expect(page).to_have_url(f"{proxy.url}/chains")
    await expect(page.get_by_role("heading", name="Chains", level=1)).to_be_visible()
