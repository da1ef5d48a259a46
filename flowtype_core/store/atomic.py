"""Crash-safe file replacement: temp file in the same folder, fsync, rename, fsync the folder."""

from __future__ import annotations

import contextlib
import fcntl
import io
import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

_thread_locks: dict[str, threading.Lock] = {}
_guard = threading.Lock()


def atomic_write(path: Path, write: Callable[[IO[bytes]], None], *, mode: int = 0o644) -> None:
    """Replace `path` so that readers and a crash see either the old or the new file, whole."""
    payload = _render(write)
    atomic_write_many(path.parent, [(path.name, payload)], mode=mode)


def _render(write: Callable[[IO[bytes]], None]) -> bytes:
    buffer = io.BytesIO()
    write(buffer)
    return buffer.getvalue()


def atomic_write_many(folder: Path, files: list[tuple[str, bytes]], *, mode: int = 0o644) -> None:
    """Replace several files of one folder, in the given order, with a single folder fsync.

    Each file is whole or old after a crash; a later file is never newer than an earlier one.
    """
    folder.mkdir(parents=True, exist_ok=True)
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
    except BaseException:
        for tmp, _ in temps:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        raise
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def atomic_write_text(path: Path, text: str, *, mode: int = 0o644) -> None:
    atomic_write(path, lambda h: h.write(text.encode("utf-8")), mode=mode)


@contextlib.contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """Serialise read-modify-write of a folder's files across threads and processes."""
    folder.mkdir(parents=True, exist_ok=True)
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
