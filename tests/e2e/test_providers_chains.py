"""The Providers page in a real browser against a proxy run from a config file: a provider added
through the form is listed (its key as a label only) and written to the file."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Page, expect
from ruamel.yaml import YAML

from chain429.server import RunningServer
from tests.e2e.test_sign_in import sign_in
from tests.support.config_file import start_file_proxy, write_config
from tests.support.polling import eventually
from tests.support.proxy import ADMIN_KEY
from tests.support.upstream import model_list, ok

NEW_KEY = "sk-test-added-in-the-browser-9876"


@pytest.fixture
def config_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CHAIN429_TEST_A_KEY", "sk-test-a-key-from-env-0000aaaa")
    return write_config(tmp_path, "http://127.0.0.1:9/v1")


@pytest.fixture
async def proxy(proxy_factory, config_path: Path) -> RunningServer:
    return await start_file_proxy(proxy_factory, config_path)


async def test_a_provider_added_in_the_form_is_listed_and_saved(
    page: Page, proxy, config_path: Path
) -> None:
    await page.goto(f"{proxy.url}/providers")
    await sign_in(page, ADMIN_KEY)
    table = page.get_by_role("table", name="Providers")
    await expect(table.get_by_role("cell", name="Provider A")).to_be_visible()

    await page.get_by_role("button", name="Add a provider").click()
    form = page.get_by_role("form", name="Add provider")
    await form.get_by_label("Id", exact=True).fill("local")
    await form.get_by_label("Name", exact=True).fill("Local server")
    await form.get_by_label("Type").select_option("generic-openai")
    await form.get_by_label("Key 1").fill(NEW_KEY)
    await form.get_by_role("button", name="Add provider").click()
    await expect(form.get_by_role("alert")).to_have_text(
        "A generic-openai provider needs its base URL."
    )
    await form.get_by_label("Base URL").fill("http://127.0.0.1:9/v1")
    await form.get_by_label("Requests per minute").fill("30")
    await form.get_by_role("button", name="Add provider").click()

    row = table.get_by_role("row").filter(has_text="Local server")
    await expect(row).to_contain_text("…9876")
    await expect(row).to_contain_text("requestsPerMinute 30")
    assert NEW_KEY not in await page.content()
    saved = YAML(typ="safe").load(config_path.read_text(encoding="utf-8"))
    added = next(p for p in saved["providers"] if p["id"] == "local")
    assert added["type"] == "generic-openai"
    assert added["apiKey"] == NEW_KEY
    assert added["rateLimits"] == {"requestsPerMinute": 30}


async def test_an_api_refusal_shows_next_to_its_field(page: Page, proxy) -> None:
    await page.goto(f"{proxy.url}/providers")
    await sign_in(page, ADMIN_KEY)

    await page.get_by_role("button", name="Add a provider").click()
    form = page.get_by_role("form", name="Add provider")
    await form.get_by_label("Id", exact=True).fill("later")
    await form.get_by_label("Key 1").fill(NEW_KEY)
    await form.get_by_label("Daily reset time zone").fill("Mars/Olympus")
    await form.get_by_role("button", name="Add provider").click()

    error = page.locator("#provider-dailyResetTimezone-error")
    await expect(error).to_contain_text("unknown time zone 'Mars/Olympus'")


def saved_chains(config_path: Path) -> dict[str, list[str]]:
    saved = YAML(typ="safe").load(config_path.read_text(encoding="utf-8"))
    return {
        chain["name"]: [f"{e['provider']}/{e['model']}" for e in chain["entries"]]
        for chain in saved["chains"]
    }


async def test_a_chain_is_reordered_with_the_keyboard_and_saved(
    page: Page, proxy, config_path: Path
) -> None:
    await page.goto(f"{proxy.url}/chains")
    await sign_in(page, ADMIN_KEY)
    entries = page.get_by_role("list", name="Entries of default")
    await expect(entries.get_by_role("listitem")).to_have_count(2)
    await expect(page.get_by_text("default chain: not deletable")).to_be_visible()

    handle = entries.get_by_role("button", name="Move a/a-model", exact=True)
    await handle.focus()
    await page.keyboard.press("Space")
    await expect(handle).to_have_attribute("aria-pressed", "true")
    await page.keyboard.press("ArrowDown")
    await expect(page.get_by_text("was moved over droppable area b/b-model")).to_be_attached()
    await page.keyboard.press("Space")

    await expect(entries.get_by_role("listitem").first).to_contain_text("b/b-model")
    await expect(entries.get_by_role("listitem").last).to_contain_text("a/a-model")
    reordered = ["b/b-model", "a/a-model"]
    await eventually(
        lambda: saved_chains(config_path)["default"] == reordered, what="the new order saved"
    )


async def test_a_chain_is_reordered_with_the_mouse_and_saved(
    page: Page, proxy, config_path: Path
) -> None:
    await page.goto(f"{proxy.url}/chains")
    await sign_in(page, ADMIN_KEY)
    entries = page.get_by_role("list", name="Entries of default")
    await expect(entries.get_by_role("listitem")).to_have_count(2)

    handle = await entries.get_by_role("button", name="Move a/a-model", exact=True).bounding_box()
    below = await entries.get_by_role("listitem").last.bounding_box()
    assert handle is not None and below is not None
    x, y = handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2
    await page.mouse.move(x, y)
    await page.mouse.down()
    await page.mouse.move(x, y + 8, steps=4)
    await page.mouse.move(x, below["y"] + below["height"] * 0.75, steps=12)
    await page.mouse.up()

    await expect(entries.get_by_role("listitem").first).to_contain_text("b/b-model")
    await expect(entries.get_by_role("listitem").last).to_contain_text("a/a-model")
    reordered = ["b/b-model", "a/a-model"]
    await eventually(
        lambda: saved_chains(config_path)["default"] == reordered, what="the new order saved"
    )
    answer = await page.request.get(
        f"{proxy.url}/api/chains/default", headers={"Authorization": f"Bearer {ADMIN_KEY}"}
    )
    chain = await answer.json()
    assert [f"{e['provider']}/{e['model']}" for e in chain["entries"]] == reordered


async def test_a_chain_is_created_with_typed_entries_and_deleted(
    page: Page, proxy, config_path: Path
) -> None:
    await page.goto(f"{proxy.url}/chains")
    await sign_in(page, ADMIN_KEY)

    await page.get_by_role("button", name="New chain").click()
    form = page.get_by_role("form", name="New chain")
    await form.get_by_label("Chain name").fill("fast")
    await form.get_by_label("Entry provider").select_option("b")
    await form.get_by_label("Model").fill("b-small")
    await form.get_by_role("button", name="Add entry").click()
    await form.get_by_role("button", name="Create chain").click()

    await expect(form).to_have_count(0)
    created = page.get_by_role("region", name="Chain fast")
    await expect(created.get_by_role("listitem")).to_have_count(1)
    await expect(created.get_by_role("listitem")).to_contain_text("b/b-small")
    assert saved_chains(config_path)["fast"] == ["b/b-small"]

    await created.get_by_role("button", name="Delete fast").click()
    await created.get_by_role("button", name="Yes, delete fast").click()
    await expect(created).to_have_count(0)
    assert "fast" not in saved_chains(config_path)


async def test_an_edit_adds_a_key_and_keeps_the_one_from_the_environment(
    page: Page, proxy, config_path: Path
) -> None:
    await page.goto(f"{proxy.url}/providers")
    await sign_in(page, ADMIN_KEY)

    await page.get_by_role("button", name="Edit a", exact=True).click()
    form = page.get_by_role("form", name="Edit a")
    await expect(form.get_by_label("Key …aaaa")).to_have_value("")
    await form.get_by_role("button", name="Add a key").click()
    await form.get_by_label("Key 2").fill(NEW_KEY)
    await form.get_by_role("button", name="Save provider").click()

    row = page.get_by_role("row").filter(has_text="Provider A")
    await expect(row).to_contain_text("…aaaa …9876")
    text = config_path.read_text(encoding="utf-8")
    assert "apiKey: ${CHAIN429_TEST_A_KEY}" in text
    assert NEW_KEY in text


async def test_removing_a_provider_a_chain_uses_is_confirmed_then_refused(
    page: Page, proxy
) -> None:
    await page.goto(f"{proxy.url}/providers")
    await sign_in(page, ADMIN_KEY)

    await page.get_by_role("button", name="Remove b", exact=True).click()
    await page.get_by_role("button", name="Yes, remove b").click()

    await expect(page.get_by_role("alert")).to_contain_text("is used by chains: default")
    await expect(page.get_by_role("row").filter(has_text="…bbbb")).to_be_visible()


async def test_a_providers_models_are_listed_when_asked_for(
    page: Page, upstream_factory, proxy_factory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHAIN429_TEST_A_KEY", "sk-test-a-key-from-env-0000aaaa")
    upstream = await upstream_factory(ok())
    upstream.models = [model_list("llama-fast", "llama-big")]
    proxy = await start_file_proxy(proxy_factory, write_config(tmp_path, upstream.base_url))
    await page.set_viewport_size({"width": 1024, "height": 768})
    await page.goto(f"{proxy.url}/providers")
    await sign_in(page, ADMIN_KEY)
    table = page.get_by_role("table", name="Providers")
    await expect(table.get_by_role("cell", name="Provider A")).to_be_visible()
    assert upstream.models_calls == 0

    await table.get_by_role("button", name="Models of a", exact=True).click()

    models = table.get_by_role("list", name="Models of a")
    await expect(models.get_by_role("listitem")).to_have_text(["llama-fast", "llama-big"])
    await expect(table.get_by_text("2 models offered by a")).to_be_visible()
    assert upstream.models_calls == 1
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1024


async def test_a_provider_that_cannot_be_reached_says_so_with_what_to_check(
    page: Page, proxy
) -> None:
    await page.goto(f"{proxy.url}/providers")
    await sign_in(page, ADMIN_KEY)
    table = page.get_by_role("table", name="Providers")

    await table.get_by_role("button", name="Models of b", exact=True).click()

    alert = table.get_by_role("alert")
    await expect(alert).to_contain_text("Could not list the models of b:")
    await expect(alert).to_contain_text("Check the provider's base URL and key")
    assert "[object Object]" not in await alert.inner_text()


def saved_entries(config_path: Path, chain: str) -> list[dict[str, object]]:
    saved = YAML(typ="safe").load(config_path.read_text(encoding="utf-8"))
    entries: list[dict[str, object]] = next(c for c in saved["chains"] if c["name"] == chain)[
        "entries"
    ]
    return entries


async def test_an_entrys_limits_are_set_saved_summed_up_and_cleared(
    page: Page, proxy, config_path: Path
) -> None:
    await page.set_viewport_size({"width": 1024, "height": 768})
    await page.goto(f"{proxy.url}/chains")
    await sign_in(page, ADMIN_KEY)
    entries = page.get_by_role("list", name="Entries of default")
    first, second = entries.get_by_role("listitem").first, entries.get_by_role("listitem").last
    await expect(second).to_contain_text("b/b-model")

    await first.get_by_role("button", name="Limits of a/a-model", exact=True).click()
    limits = first.get_by_role("group", name="Limits of a/a-model (empty: not set)")
    await limits.get_by_label("Requests per minute").fill("-1")
    await limits.get_by_role("button", name="Set limits of a/a-model").click()
    await expect(limits.get_by_role("alert")).to_have_text("A limit is a whole number above 0.")
    await limits.get_by_label("Requests per minute").fill("30")
    await limits.get_by_label("Requests per day").fill("1000")
    await limits.get_by_role("button", name="Set limits of a/a-model").click()

    await expect(limits).to_have_count(0)
    await expect(first).to_contain_text("30/min · 1,000/day")
    await eventually(
        lambda: (
            saved_entries(config_path, "default")[0].get("rateLimits")
            == {"requestsPerMinute": 30, "requestsPerDay": 1000}
        ),
        what="the entry's limits saved",
    )
    answer = await page.request.get(
        f"{proxy.url}/api/chains/default", headers={"Authorization": f"Bearer {ADMIN_KEY}"}
    )
    chain = await answer.json()
    assert chain["entries"][0]["rateLimits"]["requestsPerDay"] == 1000

    await second.get_by_role("button", name="Limits of b/b-model", exact=True).click()
    await second.get_by_label("Tokens per minute").fill("6000")
    await second.get_by_role("button", name="Set limits of b/b-model").click()
    await expect(second).to_contain_text("6,000 tok/min")
    await expect(second.get_by_role("group")).to_have_count(0)
    await second.get_by_role("button", name="Limits of b/b-model", exact=True).click()
    await expect(second.get_by_label("Tokens per minute")).to_have_value("6000")
    await second.get_by_role("button", name="Clear limits").click()
    await expect(second).not_to_contain_text("tok/min")
    await eventually(
        lambda: "rateLimits" not in saved_entries(config_path, "default")[1],
        what="the second entry's limits cleared",
    )
    assert saved_entries(config_path, "default")[0]["rateLimits"] == {
        "requestsPerMinute": 30,
        "requestsPerDay": 1000,
    }
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1024
    await first.get_by_role("button", name="Limits of a/a-model", exact=True).click()
    await expect(limits.get_by_label("Requests per day")).to_have_value("1000")
