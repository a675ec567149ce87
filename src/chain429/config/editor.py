"""The one way a change reaches the running proxy: edit the file, save it, then swap it in.

A change reads the file as it is now (edits made to it by hand are kept), edits it as a
`ConfigDocument`, validates the result with the loader's own checks, writes it (`save`), and
only then hands the new `Config` to `apply`, which swaps it in. Changes run one at a time; each
may carry the version (`ETag`) its author read, and is refused as stale when another change
came first. Nothing is applied that was not saved, and nothing stays saved that `apply`
refused: the previous text is written back before the error is raised.

The file is read, parsed, edited and written in a worker thread, off the event loop; `apply`
and `on_change` run on the loop. A change runs to its end even when its caller is cancelled
(a client that hung up), so a file once written is always applied or restored.

Replicas sharing one Redis (`state_store.config_sharing`) run one configuration: before a
change or a reload is applied, `claim` (when given, `share_through`) asks the fleet to take it,
and a fleet that moved on since this replica's version refuses it as stale. `adopt` runs a
configuration another replica published, without touching this replica's file. While this
replica's file is behind what it runs (it has a file of its own, which another replica's
change did not reach), a change is made on the running configuration and written to no file:
its file's text lacks the fleet's changes, and an edit of it would undo them.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from chain429.config.document import ConfigDocument
from chain429.config.environment import environment_settings
from chain429.config.load import parse_config, read_text
from chain429.config.round_trip import RoundTrip
from chain429.config.save import (
    LOCAL_FILES,
    ConfigWriteError,
    FileSystem,
    ReadOnlyConfig,
    check_writable,
    save_text,
)
from chain429.config.schema import Config
from chain429.config.version import config_version
from chain429.errors import Chain429Error
from chain429.tasks import create_task

T = TypeVar("T")

#: Asks the fleet to take a config in place of the version it names; False: refused as stale.
Claim = Callable[[str, Config], Awaitable[bool]]

NO_FILE = (
    "this proxy was started from a configuration object, not a file: there is no file to "
    "save changes to, so the configuration cannot be changed through the API (run it from a "
    "file, as `429chain serve --config <file>` does, to change it here)"
)


class StaleVersion(Chain429Error):
    """The change was made against a version of the config that is no longer the running one."""


class NoConfigFile(ReadOnlyConfig):
    """The proxy runs from a configuration object, not a file: there is nothing to save to."""


@dataclass(frozen=True, slots=True)
class _Saved:
    """A change written to the file: its config, and the text it replaced (to restore)."""

    config: Config
    previous: str | None


class ConfigEditor:
    """Serialises changes to the config file and applies each to the running proxy."""

    def __init__(
        self,
        path: Path | None,
        current: Config,
        apply: Callable[[Config], None],
        *,
        environ: Mapping[str, str] | None = None,
        on_change: Callable[[Config, Config], None] | None = None,
        files: FileSystem = LOCAL_FILES,
    ) -> None:
        self._path = path
        self._config = current
        self._version = config_version(current)
        self._apply = apply
        self._environ = os.environ if environ is None else environ
        self._on_change = on_change
        self._files = files
        self._lock = asyncio.Lock()
        self._claim: Claim | None = None
        self._adopted = False

    @property
    def config(self) -> Config:
        """The running configuration."""
        return self._config

    @property
    def version(self) -> str:
        """The running configuration's version, as an `ETag`."""
        return self._version

    def share_through(self, claim: Claim) -> None:
        """Ask `claim` before applying any change or reload (the replicas' shared version)."""
        self._claim = claim

    async def adopt(self, config: Config) -> bool:
        """Run `config`, which another replica validated, saved and published: applied after
        the changes in progress, with no claim and no write to this replica's file. False
        when it runs already (this replica's own change, told back to it)."""
        async with self._lock:
            changed = config_version(config) != self._version
            self._adopted = self._adopted or changed
            self._swap(config)
            return changed

    def environment_settings(self) -> frozenset[str]:
        """The settings (camelCase) the environment gives: the file's values do not apply."""
        return frozenset(environment_settings(self._environ))

    def writable(self) -> str | None:
        """None, or why changes are refused (no file; a read-only file). It opens the file for
        writing (and closes it, unchanged) on the caller's thread: a quick check, not a save."""
        if self._path is None:
            return NO_FILE
        try:
            check_writable(self._path, self._files)
        except (ReadOnlyConfig, ConfigWriteError) as exc:
            return str(exc)
        return None

    async def change(
        self, edit: Callable[[ConfigDocument], T], if_match: str | None = None
    ) -> tuple[Config, T]:
        """Apply `edit` to the file and the running proxy; (the new config, what `edit`
        returned). `if_match` (an `If-Match` header: tags, or `*`) must name the running
        version. `edit` runs in a worker thread and must touch nothing but the document.

        Raises StaleVersion, ReadOnlyConfig, ConfigError (the edit's result is invalid; the
        problems name field paths), ConfigWriteError, or the document's NotFound and Conflict;
        in each case neither the file nor the running config changed. An error raised by
        `apply` is raised again after the file's previous text is restored."""
        task = create_task(self._change(edit, if_match), name="config change")
        return await asyncio.shield(task)

    async def reload(self, if_match: str | None = None) -> Config:
        """Read and validate the file again and apply it; a ConfigError (the running config
        stays) when it is invalid, a StaleVersion when `if_match` names another version."""
        return await asyncio.shield(create_task(self._reload(if_match), name="config reload"))

    async def _change(
        self, edit: Callable[[ConfigDocument], T], if_match: str | None
    ) -> tuple[Config, T]:
        async with self._lock:
            self._check_version(if_match)
            path = self._file()
            saved, result = await asyncio.to_thread(self._edit_file, path, edit)
            try:
                await self._claimed(saved.config)
                self._swap(saved.config)
            except BaseException:
                if saved.previous is not None:
                    await asyncio.to_thread(self._restore, path, saved.previous)
                raise
            return saved.config, result

    async def _reload(self, if_match: str | None) -> Config:
        async with self._lock:
            self._check_version(if_match)
            config = await asyncio.to_thread(self._read_file, self._file())
            await self._claimed(config)
            self._swap(config)
            self._adopted = False
            return self._config

    def _check_version(self, if_match: str | None) -> None:
        if not matches(if_match, self._version):
            raise StaleVersion(
                f"the configuration changed since it was read (its version is now "
                f"{self._version}): read it again, then retry"
            )

    async def _claimed(self, config: Config) -> None:
        """Raise StaleVersion when the fleet refuses `config` (another replica changed first)."""
        if self._claim is None or config_version(config) == self._version:
            return
        if not await self._claim(self._version, config):
            raise StaleVersion(
                "another replica changed the configuration first (this one has not applied it "
                "yet): read it again, then retry"
            )

    def _file(self) -> Path:
        if self._path is None:
            raise NoConfigFile(NO_FILE)
        return self._path

    def _edit_file(self, path: Path, edit: Callable[[ConfigDocument], T]) -> tuple[_Saved, T]:
        check_writable(path, self._files)
        text = read_text(path, "config file")
        if self._adopted and config_version(self._read_file(path)) != self._version:
            return self._edit_running(edit)
        self._adopted = False
        document = ConfigDocument.parse(text, str(path), environ=self._environ)
        result = edit(document)
        new_text = document.text()
        config = parse_config(new_text, self._environ, source=str(path))
        if new_text == text:
            return _Saved(config, None), result
        save_text(path, new_text, private=document.wrote_secret, files=self._files)
        return _Saved(config, text), result

    def _edit_running(self, edit: Callable[[ConfigDocument], T]) -> tuple[_Saved, T]:
        """`edit` made on the running configuration (another replica's), saved nowhere."""
        source = "the running configuration"
        data = self._config.model_dump(mode="json", by_alias=True, exclude_none=True)
        document = ConfigDocument.parse(RoundTrip("").dump(data), source, environ=self._environ)
        result = edit(document)
        return _Saved(parse_config(document.text(), self._environ, source=source), None), result

    def _read_file(self, path: Path) -> Config:
        return parse_config(read_text(path, "config file"), self._environ, source=str(path))

    def _restore(self, path: Path, text: str) -> None:
        save_text(path, text, private=False, files=self._files)

    def _swap(self, config: Config) -> None:
        """Apply `config` unless it is the running one already; tell `on_change`."""
        version = config_version(config)
        if version == self._version:
            return
        self._apply(config)
        old, self._config, self._version = self._config, config, version
        if self._on_change is not None:
            self._on_change(old, config)


def matches(if_match: str | None, version: str) -> bool:
    """Whether an `If-Match` header value names `version` (None: no precondition)."""
    if if_match is None:
        return True
    tags = [tag.strip().removeprefix("W/") for tag in if_match.split(",")]
    return "*" in tags or version in tags
