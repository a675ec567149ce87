"""Writing the config file so that it is, at every instant, either the old text or the new.

The new text goes to a temporary file next to the config (created with the file's final mode),
is flushed to disk, and renamed over the config; the directory is then synced so the rename
survives a crash. A file that cannot be renamed over (Docker's single-file bind mount answers
EBUSY) is rewritten in place instead, guarded by a backup copy (`<name>.bak`, synced before the
file is touched, restored if the write fails, removed after it succeeds).

The file keeps its mode and owner, except that a file holding keys written through the API
becomes readable by its owner only (0600). A file that cannot be written is reported before
anything is touched (`ReadOnlyConfig`); a write that fails leaves the old text in place and
says why (`ConfigWriteError`), never quoting the text, which may hold keys.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from chain429.errors import Chain429Error

PRIVATE_MODE: Final = 0o600
#: What `rename` answers when the file is a mount point (or on another device): write in place.
_CANNOT_RENAME: Final = frozenset({errno.EBUSY, errno.EXDEV, errno.EPERM})
_READ_ONLY: Final = frozenset({errno.EROFS, errno.EACCES, errno.EPERM})


class ReadOnlyConfig(Chain429Error):
    """The config cannot be changed: its file is read-only, or there is no file."""


class ConfigWriteError(Chain429Error):
    """Writing the config file failed; the file holds its previous text."""


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _probe(path: Path) -> None:
    """Raise the OSError a write to `path` (or a new file next to it) would meet."""
    os.close(os.open(path, os.O_WRONLY))
    if not os.access(path.parent, os.W_OK):
        raise PermissionError(errno.EACCES, "its directory is not writable", str(path.parent))


@dataclass(frozen=True, slots=True)
class FileSystem:
    """The calls a save makes that tests replace, to cause what cannot be caused for real in
    a test (a bind mount's EBUSY, a read-only mount, a disk filling up mid-write, a file of
    another user)."""

    rename: Callable[[Path, Path], None] = os.replace
    probe: Callable[[Path], None] = _probe
    write: Callable[[int, bytes], None] = _write_all
    chown: Callable[[int, int, int], None] = os.fchown


LOCAL_FILES: Final = FileSystem()


def check_writable(path: Path, files: FileSystem = LOCAL_FILES) -> None:
    """Raise ReadOnlyConfig (or ConfigWriteError) when `path` cannot be saved."""
    try:
        files.probe(path)
    except OSError as exc:
        if exc.errno in _READ_ONLY:
            raise ReadOnlyConfig(
                f"{path} is read-only ({exc.strerror}), so changes cannot be saved: make it "
                "writable by the proxy's user (in Docker, mount it without ':ro') to manage "
                "the configuration through the API"
            ) from exc
        raise _write_error(path, exc) from exc


def save_text(path: Path, text: str, *, private: bool, files: FileSystem = LOCAL_FILES) -> None:
    """Replace the text of the config file at `path` with `text`; `private` makes it 0600."""
    target = path.resolve()
    check_writable(target, files)
    data = text.encode("utf-8")
    try:
        status = target.stat()
    except OSError as exc:
        raise _write_error(target, exc) from exc
    mode = PRIVATE_MODE if private else stat.S_IMODE(status.st_mode)
    temporary = _write_temporary(target, data, mode, status, files)
    if temporary is not None:
        try:
            files.rename(temporary, target)
        except OSError as exc:
            temporary.unlink(missing_ok=True)
            if exc.errno not in _CANNOT_RENAME:
                raise _write_error(target, exc) from exc
        else:
            _sync_directory(target.parent)
            return
    _write_in_place(target, data, mode, files)


def _write_temporary(
    target: Path, data: bytes, mode: int, status: os.stat_result, files: FileSystem
) -> Path | None:
    """A synced temporary file holding `data` next to `target`, with its mode and owner; None
    when a new file cannot be given the owner (then only writing in place keeps it)."""
    try:
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise _write_error(target, exc) from exc
    temporary = Path(name)
    try:
        try:
            owned = _fill(fd, data, mode, status, files)
        finally:
            os.close(fd)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise _write_error(target, exc) from exc
    if not owned:
        temporary.unlink()
        return None
    return temporary


def _fill(fd: int, data: bytes, mode: int, status: os.stat_result, files: FileSystem) -> bool:
    """Give the new file at `fd` its mode and owner, then `data`; False (and no data) when the
    owner cannot be given."""
    os.fchmod(fd, mode)
    if not _same_owner(fd, status, files):
        return False
    files.write(fd, data)
    os.fsync(fd)
    return True


def _same_owner(fd: int, status: os.stat_result, files: FileSystem) -> bool:
    """Give the new file `status`'s owner and group; False when not permitted."""
    own = os.fstat(fd)
    if (own.st_uid, own.st_gid) == (status.st_uid, status.st_gid):
        return True
    try:
        files.chown(fd, status.st_uid, status.st_gid)
    except PermissionError:
        return False
    return True


def _write_in_place(target: Path, data: bytes, mode: int, files: FileSystem) -> None:
    backup = target.with_name(target.name + ".bak")
    try:
        previous = target.read_bytes()
        _write_file(backup, previous, PRIVATE_MODE, files)
    except OSError as exc:
        backup.unlink(missing_ok=True)
        raise _write_error(target, exc) from exc
    try:
        _write_file(target, data, mode, files)
    except OSError as exc:
        try:
            _write_file(target, previous, mode, files)
        except OSError:
            raise ConfigWriteError(
                f"{target}: the config could not be written ({exc.strerror}) nor restored; "
                f"its previous text is in {backup}"
            ) from exc
        backup.unlink()
        raise _write_error(target, exc) from exc
    backup.unlink()
    _sync_directory(target.parent)


def _write_file(path: Path, data: bytes, mode: int, files: FileSystem) -> None:
    """Truncate and write `path` in place, with `mode`, and sync it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, mode)
    try:
        if stat.S_IMODE(os.fstat(fd).st_mode) != mode:
            os.fchmod(fd, mode)
        os.ftruncate(fd, 0)
        files.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def _sync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_error(path: Path, exc: OSError) -> ConfigWriteError:
    return ConfigWriteError(
        f"{path}: the config could not be written ({exc.strerror or exc}); "
        "the file was left as it was"
    )
