"""Crash-safe file replacement: temp file in the same folder, fsync, rename, fsync the folder.

Everything written here is private to the user running FlowType (folders 0700, files 0600):
keystrokes are personal data, and a shared lab machine has other local users.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import io
import logging
import os
import stat
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from flowtype_core.errors import StorageFull

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
log = logging.getLogger(__name__)
_NO_SPACE = (errno.ENOSPC, errno.EDQUOT)
_thread_locks: dict[str, threading.Lock] = {}
_guard = threading.Lock()


def private_dir(folder: Path) -> Path:
    """Create `folder` (and missing parents) for this user only; an existing one is tightened.

    A folder another user owns cannot be changed: that is logged, not fatal.
    """
    folder.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    mode = stat.S_IMODE(folder.stat().st_mode)
    if mode & 0o077:
        try:
            os.chmod(folder, mode & PRIVATE_DIR)
        except PermissionError as exc:
            log.warning("%s stays readable by other users (mode %o): %s", folder, mode, exc)
    return folder


def private_append(path: Path, data: bytes) -> None:
    """Append to a file created 0600 (logs such as the sync history)."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, PRIVATE_FILE)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def atomic_write(path: Path, write: Callable[[IO[bytes]], object], *, mode: int = PRIVATE_FILE) -> None:
    """Replace `path` so that readers and a crash see either the old or the new file, whole."""
    payload = _render(write)
    atomic_write_many(path.parent, [(path.name, payload)], mode=mode)


def _render(write: Callable[[IO[bytes]], object]) -> bytes:
    buffer = io.BytesIO()
    write(buffer)
    return buffer.getvalue()


def atomic_write_many(folder: Path, files: list[tuple[str, bytes]], *, mode: int = PRIVATE_FILE) -> None:
    """Replace several files of one folder, in the given order, with a single folder fsync.

    Each file is whole or old after a crash; a later file is never newer than an earlier one.
    """
    private_dir(folder)
    temps: list[tuple[str, str]] = []
    try:
        for name, payload in files:
            fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
            temps.append((tmp, name))
            with os.fdopen(fd, "wb") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, mode)
        for tmp, name in temps:
            os.replace(tmp, folder / name)
    except BaseException as exc:
        for tmp, _ in temps:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        if isinstance(exc, OSError) and exc.errno in _NO_SPACE:
            raise StorageFull(
                "The disk holding the data folder is full, so this was not saved (nothing of it was "
                "written). Free some space on it, then try again."
            ) from exc
        raise
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def atomic_write_text(path: Path, text: str, *, mode: int = PRIVATE_FILE) -> None:
    atomic_write(path, lambda h: h.write(text.encode("utf-8")), mode=mode)


@contextlib.contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """Serialise read-modify-write of a folder's files across threads and processes."""
    private_dir(folder)
    key = str(folder.resolve())
    with _guard:
        thread_lock = _thread_locks.setdefault(key, threading.Lock())
    with thread_lock, open(folder / ".lock", "a+") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def remove_stale_temps(folder: Path) -> int:
    """Delete temp files a killed writer left behind (never the real files)."""
    removed = 0
    for tmp in folder.glob(".*.tmp"):
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
            removed += 1
    return removed
