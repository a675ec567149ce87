"""The config editor on real files: a change is written, then applied, one at a time, against
the version its author read; an invalid, refused or unsaved change leaves both the file and the
running config as they were; the file's hand edits are kept; reload applies a valid file only."""

from __future__ import annotations

import asyncio
import errno
import os
import stat
import threading
from pathlib import Path

import pytest

from chain429.config.document import ConfigDocument, Conflict, NotFound
from chain429.config.editor import NO_FILE, ConfigEditor, StaleVersion
from chain429.config.example import example_config
from chain429.config.load import load_config
from chain429.config.save import LOCAL_FILES, ConfigWriteError, FileSystem, ReadOnlyConfig
from chain429.config.schema import Config
from chain429.config.version import config_version
from chain429.errors import ConfigError
from tests.support.configs import EXAMPLE_KEYS
from tests.support.polling import eventually

EXAMPLE_CONFIG = example_config("adm-made-up-admin-key-0001")

FAST = [{"provider": "groq", "model": "llama-3.1-8b-instant"}]


class Proxy:
    """What the app gives the editor: `apply` swaps the running config; `on_change` hears."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.applied: list[Config] = []
        self.changes: list[tuple[Config, Config]] = []
        self.refuse = False

    def apply(self, config: Config) -> None:
        if self.refuse:
            raise RuntimeError("apply refused")
        self.applied.append(config)
        self.config = config

    def on_change(self, old: Config, new: Config) -> None:
        self.changes.append((old, new))


@pytest.fixture
def path(tmp_path: Path) -> Path:
    path = tmp_path / "429chain.yaml"
    path.write_text(EXAMPLE_CONFIG)
    path.chmod(0o640)
    return path


@pytest.fixture
def proxy(path: Path) -> Proxy:
    return Proxy(load_config(path, EXAMPLE_KEYS))


def make_editor(path: Path | None, proxy: Proxy, files: FileSystem = LOCAL_FILES) -> ConfigEditor:
    return ConfigEditor(
        path,
        proxy.config,
        proxy.apply,
        environ=EXAMPLE_KEYS,
        on_change=proxy.on_change,
        files=files,
    )


def add_fast(document: ConfigDocument) -> bool:
    return document.put_chain("fast", FAST)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_a_change_is_written_then_applied_and_heard(path: Path, proxy: Proxy) -> None:
    editor = make_editor(path, proxy)
    before, old = editor.version, editor.config
    config, created = await editor.change(add_fast, if_match=before)
    assert created is True
    assert config.chain("fast") is not None
    assert load_config(path, EXAMPLE_KEYS) == config
    assert proxy.applied == [config] and proxy.changes == [(old, config)]
    assert editor.config is config and editor.version == config_version(config) != before
    assert mode(path) == 0o640


@pytest.mark.parametrize("tag", ["*", "W/{version}", '"other", {version}'])
async def test_if_match_accepts_any_tag_naming_the_version(
    path: Path, proxy: Proxy, tag: str
) -> None:
    editor = make_editor(path, proxy)
    await editor.change(add_fast, if_match=tag.format(version=editor.version))
    assert proxy.applied


async def test_a_stale_version_is_refused_and_nothing_changes(path: Path, proxy: Proxy) -> None:
    editor = make_editor(path, proxy)
    with pytest.raises(StaleVersion, match=f"its version is now {editor.version}"):
        await editor.change(add_fast, if_match='"0123456789abcdef"')
    assert path.read_text() == EXAMPLE_CONFIG and proxy.applied == []


async def test_of_two_changes_from_the_same_version_exactly_one_wins(
    path: Path, proxy: Proxy
) -> None:
    editor = make_editor(path, proxy)
    version = editor.version

    def rename(document: ConfigDocument, name: str) -> bool:
        return document.put_chain(name, FAST)

    results = await asyncio.gather(
        editor.change(lambda d: rename(d, "one"), if_match=version),
        editor.change(lambda d: rename(d, "two"), if_match=version),
        return_exceptions=True,
    )
    assert sum(isinstance(r, StaleVersion) for r in results) == 1
    assert sum(isinstance(r, tuple) for r in results) == 1
    assert len(proxy.applied) == 1
    names = {c.name for c in load_config(path, EXAMPLE_KEYS).chains}
    assert len(names & {"one", "two"}) == 1


async def test_an_invalid_result_is_refused_with_field_paths(path: Path, proxy: Proxy) -> None:
    editor = make_editor(path, proxy)
    with pytest.raises(ConfigError) as caught:
        await editor.change(lambda d: d.put_chain("bad", [{"provider": "nope", "model": "m"}]))
    assert caught.value.problems == ["chains[1].entries[0].provider: unknown provider 'nope'"]
    assert path.read_text() == EXAMPLE_CONFIG and proxy.applied == []


async def test_a_refused_edit_changes_nothing(path: Path, proxy: Proxy) -> None:
    editor = make_editor(path, proxy)
    with pytest.raises(Conflict, match="provider 'groq' is used by chains: default"):
        await editor.change(lambda d: d.delete_provider("groq"))
    with pytest.raises(NotFound):
        await editor.change(lambda d: d.delete_chain("nope"))
    assert path.read_text() == EXAMPLE_CONFIG and proxy.applied == []


async def test_an_edit_that_changes_nothing_writes_and_applies_nothing(
    path: Path, proxy: Proxy
) -> None:
    editor = make_editor(path, proxy)
    inode = path.stat().st_ino
    config, _ = await editor.change(lambda d: d.update_settings({"port": 3429}))
    assert config == proxy.config and proxy.applied == [] and path.stat().st_ino == inode


async def test_the_edit_runs_off_the_event_loop(path: Path, proxy: Proxy) -> None:
    editor = make_editor(path, proxy)
    _, thread = await editor.change(lambda d: threading.get_ident())
    assert thread != threading.get_ident()


async def test_a_change_whose_caller_is_cancelled_still_ends_applied(
    path: Path, proxy: Proxy
) -> None:
    editor = make_editor(path, proxy)
    started, release = threading.Event(), threading.Event()

    def slow_edit(document: ConfigDocument) -> bool:
        started.set()
        release.wait(timeout=5)
        return add_fast(document)

    caller = asyncio.get_running_loop().create_task(editor.change(slow_edit))
    await eventually(started.is_set, what="the edit started")
    caller.cancel()
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await caller
    await eventually(lambda: proxy.applied, what="the change applied")
    assert editor.config.chain("fast") is not None
    assert load_config(path, EXAMPLE_KEYS) == editor.config


async def test_a_key_written_through_the_api_makes_the_file_private(
    path: Path, proxy: Proxy
) -> None:
    editor = make_editor(path, proxy)
    groq = {"id": "groq", "type": "groq"}
    await editor.change(lambda d: d.put_provider({**groq, "apiKey": "…3456"}))
    assert mode(path) == 0o640
    await editor.change(lambda d: d.put_provider({**groq, "apiKey": "gsk_new_key_0000"}))
    assert mode(path) == 0o600
    assert proxy.config.provider("groq").keys == ("gsk_new_key_0000",)


async def test_a_failed_write_applies_nothing_and_says_why(path: Path, proxy: Proxy) -> None:
    def full_disk(fd: int, data: bytes) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    editor = make_editor(path, proxy, FileSystem(write=full_disk))
    with pytest.raises(ConfigWriteError, match="No space left on device"):
        await editor.change(add_fast)
    assert path.read_text() == EXAMPLE_CONFIG and proxy.applied == []
    assert editor.config is proxy.config


async def test_a_read_only_file_refuses_every_change(path: Path, proxy: Proxy) -> None:
    def read_only(_: Path) -> None:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    editor = make_editor(path, proxy, FileSystem(probe=read_only))
    assert "is read-only (Read-only file system)" in (editor.writable() or "")
    with pytest.raises(ReadOnlyConfig, match="is read-only"):
        await editor.change(add_fast)
    assert path.read_text() == EXAMPLE_CONFIG and proxy.applied == []
    assert make_editor(path, proxy).writable() is None


async def test_without_a_file_every_change_is_refused(proxy: Proxy) -> None:
    editor = make_editor(None, proxy)
    assert editor.writable() == NO_FILE
    with pytest.raises(ReadOnlyConfig, match="not a file"):
        await editor.change(add_fast)
    with pytest.raises(ReadOnlyConfig, match="not a file"):
        await editor.reload()
    assert proxy.applied == []


async def test_when_apply_fails_the_previous_file_is_restored(path: Path, proxy: Proxy) -> None:
    editor = make_editor(path, proxy)
    proxy.refuse = True
    with pytest.raises(RuntimeError, match="apply refused"):
        await editor.change(add_fast)
    assert path.read_text() == EXAMPLE_CONFIG
    assert editor.config is proxy.config and proxy.changes == []


async def test_hand_edits_made_between_changes_are_kept(path: Path, proxy: Proxy) -> None:
    editor = make_editor(path, proxy)
    await editor.change(add_fast)
    by_hand = path.read_text().replace("  port: 3429\n", "  port: 4000   # moved by hand\n")
    path.write_text(by_hand + "# a note at the end\n")
    config, _ = await editor.change(lambda d: d.update_settings({"logLevel": "debug"}))
    text = path.read_text()
    assert "port: 4000   # moved by hand" in text and text.endswith("# a note at the end\n")
    assert "name: fast" in text and "logLevel: debug" in text
    assert config.settings.port == 4000 and config.chain("fast") is not None


async def test_reload_applies_a_valid_file(path: Path, proxy: Proxy) -> None:
    editor = make_editor(path, proxy)
    old = editor.config
    path.write_text(EXAMPLE_CONFIG.replace("logLevel: info", "logLevel: debug"))
    config = await editor.reload()
    assert config.settings.log_level == "debug"
    assert proxy.config is config and proxy.changes == [(old, config)]
    assert await editor.reload() is config and len(proxy.applied) == 1


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("version: 1\nsettings: [\n", "line 3"),
        (EXAMPLE_CONFIG.replace("port: 3429", "port: lots"), "settings.port:"),
    ],
)
async def test_reload_of_a_broken_file_keeps_the_running_config(
    path: Path, proxy: Proxy, text: str, problem: str
) -> None:
    editor = make_editor(path, proxy)
    running, version = editor.config, editor.version
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        await editor.reload()
    assert problem in str(caught.value)
    assert editor.config is running and editor.version == version and proxy.applied == []


# replicas sharing a Redis (state_store.config_sharing)


async def test_a_change_the_fleet_refuses_is_stale_and_leaves_file_and_config(
    path: Path, proxy: Proxy
) -> None:
    editor = make_editor(path, proxy)
    asked: list[tuple[str, Config]] = []

    async def refuse(before: str, config: Config) -> bool:
        asked.append((before, config))
        return False

    editor.share_through(refuse)
    with pytest.raises(StaleVersion, match="another replica changed the configuration first"):
        await editor.change(add_fast, if_match=editor.version)
    assert [(before, c.chain("fast") is not None) for before, c in asked] == [
        (config_version(proxy.config), True)
    ]
    assert path.read_text() == EXAMPLE_CONFIG and proxy.applied == []


async def test_an_adopted_config_runs_unsaved_and_the_next_change_builds_on_it(
    path: Path, proxy: Proxy
) -> None:
    editor = make_editor(path, proxy)

    async def take(before: str, config: Config) -> bool:
        return True

    editor.share_through(take)
    other = proxy.config.chains[0].model_copy(update={"name": "other"})
    elsewhere = proxy.config.model_copy(update={"chains": (*proxy.config.chains, other)})
    await editor.adopt(elsewhere)
    assert editor.config is elsewhere and path.read_text() == EXAMPLE_CONFIG

    config, _ = await editor.change(add_fast, if_match=editor.version)

    assert config.chain("other") is not None and config.chain("fast") is not None
    assert path.read_text() == EXAMPLE_CONFIG  # behind the fleet: not edited
    assert editor.config is config
