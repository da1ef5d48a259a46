"""Uploaded dataset files: checked names, a private temp folder, then the normal import."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from flowtype_core.errors import InvalidInput
from flowtype_core.progress import Progress

_NAME = re.compile(r"[0-9A-Za-z_-]{1,64}_keystrokes\.txt")
MAX_UPLOAD_BYTES = 512 * 1024 * 1024


class FolderImporter(Protocol):
    """What an upload needs of the workbench (taken by shape, so this module never imports it)."""

    def import_aalto(self, directory: str | Path, *, progress: Progress | None = None) -> dict[str, Any]: ...


def import_uploaded(
    wb: FolderImporter,
    files: Sequence[tuple[str, bytes]],
    *,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Import uploaded `<id>_keystrokes.txt` files; a browser-supplied name never becomes a path."""
    if not files:
        raise InvalidInput("no files were uploaded")
    if sum(len(data) for _, data in files) > MAX_UPLOAD_BYTES:
        raise InvalidInput(
            f"the upload is larger than {MAX_UPLOAD_BYTES // 2**20} MB; import from a folder instead"
        )
    with tempfile.TemporaryDirectory(prefix="flowtype-upload-") as folder:
        for name, data in files:
            if not _NAME.fullmatch(name):
                raise InvalidInput(f"{name[:80]!r} is not a dataset file name like 123_keystrokes.txt")
            (Path(folder) / name).write_bytes(data)
        return wb.import_aalto(folder, progress=progress)
