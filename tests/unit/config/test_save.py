"""Saving the config file: atomic on a normal file, in place behind a backup on a bind mount,
the mode kept (0600 once the API wrote a key), refused up front when read-only, and the old
text intact after any failure. Real files in tmp_path; only what root cannot cause here (EBUSY,
EROFS, a disk filling up) goes through the `FileSystem` seam."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from chain429.config.save import (
    LOCAL_FILES,
    ConfigWriteError,
    FileSystem,
    ReadOnlyConfig,
    check_writable,
    save_text,
)

OLD = "version: 1\n# old text\n"
NEW = "version: 1\n# new text, longer than the old one\n"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(OLD)
    path.chmod(0o640)
    return path


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def failing(call: str, code: int) -> Callable[..., None]:
    def fail(*args: object) -> None:
        raise OSError(code, os.strerror(code), call)

    return fail


def bind_mount() -> FileSystem:
    """Files whose rename over the config fails as on Docker's single-file bind mount."""
    return FileSystem(rename=failing("rename", errno.EBUSY))


def failing_write_to(
    path: Path, only: bytes | None = None, code: int = errno.ENOSPC
) -> Callable[[int, bytes], None]:
    """A write that fails halfway through when it writes to the file at `path` itself (only
    when it writes `only`, if given)."""

    def write(fd: int, data: bytes) -> None:
        if os.readlink(f"/proc/self/fd/{fd}") == str(path) and only in (None, data):
            os.write(fd, data[: len(data) // 2])
            raise OSError(code, os.strerror(code))
        LOCAL_FILES.write(fd, data)

    return write


def failing_temporary_write(fd: int, data: bytes) -> None:
    """A write that fails halfway through a temporary file."""
    if os.readlink(f"/proc/self/fd/{fd}").endswith(".tmp"):
        os.write(fd, data[: len(data) // 2])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    LOCAL_FILES.write(fd, data)


def leftovers(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir() if p != path)


def test_the_new_text_replaces_the_old_and_the_mode_is_kept(config: Path) -> None:
    inode = config.stat().st_ino
    save_text(config, NEW, private=False)
    assert config.read_text() == NEW
    assert mode(config) == 0o640
    assert config.stat().st_ino != inode  # a new file renamed over the old one
    assert leftovers(config) == []


def test_a_file_holding_keys_from_the_api_becomes_private(config: Path) -> None:
    save_text(config, NEW, private=True)
    assert mode(config) == 0o600
    save_text(config, OLD, private=False)
    assert mode(config) == 0o600


def test_a_symlinked_config_is_written_through_the_link(config: Path) -> None:
    link = config.with_name("link.yaml")
    link.symlink_to(config)
    save_text(link, NEW, private=False)
    assert link.is_symlink() and config.read_text() == NEW


def test_a_bind_mount_is_written_in_place_and_the_backup_removed(config: Path) -> None:
    inode = config.stat().st_ino
    save_text(config, NEW, private=True, files=bind_mount())
    assert config.read_text() == NEW
    assert config.stat().st_ino == inode
    assert mode(config) == 0o600
    assert leftovers(config) == []


@pytest.mark.parametrize("code", [errno.EXDEV, errno.EPERM])
def test_other_refused_renames_also_write_in_place(config: Path, code: int) -> None:
    save_text(config, NEW, private=False, files=FileSystem(rename=failing("rename", code)))
    assert config.read_text() == NEW and mode(config) == 0o640


def test_a_write_failing_midway_in_place_restores_the_old_text(config: Path) -> None:
    write = failing_write_to(config, only=NEW.encode())
    files = FileSystem(rename=failing("rename", errno.EBUSY), write=write)
    with pytest.raises(ConfigWriteError) as caught:
        save_text(config, NEW, private=False, files=files)
    assert config.read_text() == OLD
    assert leftovers(config) == []
    assert "No space left on device" in str(caught.value)
    assert "the file was left as it was" in str(caught.value)
    assert "old text" not in str(caught.value) and "new text" not in str(caught.value)


def test_when_even_the_restore_fails_the_backup_is_named(config: Path) -> None:
    files = FileSystem(rename=failing("rename", errno.EBUSY), write=failing_write_to(config))
    with pytest.raises(ConfigWriteError, match=r"nor restored; its previous text is in .*\.bak"):
        save_text(config, NEW, private=False, files=files)
    assert config.with_name("config.yaml.bak").read_text() == OLD


def test_a_backup_that_cannot_be_written_leaves_the_file_untouched(config: Path) -> None:
    write = failing_write_to(config.with_name("config.yaml.bak"))
    files = FileSystem(rename=failing("rename", errno.EBUSY), write=write)
    with pytest.raises(ConfigWriteError, match="No space left on device"):
        save_text(config, NEW, private=False, files=files)
    assert config.read_text() == OLD and leftovers(config) == []


def test_a_write_failing_midway_to_the_temporary_file_leaves_the_file_intact(
    config: Path,
) -> None:
    files = FileSystem(write=failing_temporary_write)
    with pytest.raises(ConfigWriteError, match="No space left on device"):
        save_text(config, NEW, private=False, files=files)
    assert config.read_text() == OLD and leftovers(config) == []


def test_a_rename_failing_otherwise_leaves_the_file_intact(config: Path) -> None:
    files = FileSystem(rename=failing("rename", errno.EIO))
    with pytest.raises(ConfigWriteError, match="Input/output error"):
        save_text(config, NEW, private=False, files=files)
    assert config.read_text() == OLD and leftovers(config) == []


@pytest.mark.parametrize("code", [errno.EROFS, errno.EACCES])
def test_a_read_only_file_is_refused_before_anything_is_touched(config: Path, code: int) -> None:
    touched: list[str] = []
    files = FileSystem(
        probe=failing("open", code),
        rename=lambda *_: touched.append("rename"),
        write=lambda *_: touched.append("write"),
    )
    with pytest.raises(ReadOnlyConfig) as caught:
        save_text(config, NEW, private=False, files=files)
    assert f"{config} is read-only ({os.strerror(code)})" in str(caught.value)
    assert "mount it without ':ro'" in str(caught.value)
    assert touched == [] and config.read_text() == OLD and leftovers(config) == []


def test_the_real_probe_passes_a_writable_file_and_fails_a_missing_one(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    with pytest.raises(ConfigWriteError, match="No such file"):
        check_writable(path)
    path.write_text(OLD)
    check_writable(path)


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another user")
def test_the_owner_is_kept(config: Path) -> None:
    os.chown(config, 1234, 4321)
    save_text(config, NEW, private=False)
    assert (config.stat().st_uid, config.stat().st_gid) == (1234, 4321)


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another user")
def test_a_file_whose_owner_a_new_file_cannot_have_is_written_in_place(config: Path) -> None:
    os.chown(config, 1234, 4321)
    inode = config.stat().st_ino
    save_text(config, NEW, private=False, files=FileSystem(chown=failing("chown", errno.EPERM)))
    assert config.read_text() == NEW and config.stat().st_ino == inode
    assert (config.stat().st_uid, config.stat().st_gid) == (1234, 4321)
    assert leftovers(config) == []
