"""Exports in the field's formats: Aalto files, KVC sequences, BIDS events, Parquet tables.

Each format is a module with `write(tables, folder) -> report`; `export` selects the rows once,
writes into a hidden folder beside `out` and renames it into place, so an interrupted export never
leaves a half-written dataset where a reader would take it for a whole one.
"""

from __future__ import annotations

import contextlib
import io
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flowtype_core.errors import InvalidInput
from flowtype_core.export import aalto, bids, kvc, parquet
from flowtype_core.export.selection import ExportTables, select_tables
from flowtype_core.lakehouse.base import Lakehouse

Writer = Callable[[ExportTables, Path], dict[str, Any]]
FORMATS: dict[str, Writer] = {
    "aalto": aalto.write,
    "kvc": kvc.write,
    "bids": bids.write,
    "parquet": parquet.write,
}


def export(
    lakehouse: Lakehouse,
    fmt: str,
    out: str | Path,
    *,
    study: str | None = None,
    valid_only: bool = False,
) -> dict[str, Any]:
    """Write the (filtered) tables to `out` in `fmt`; `out` must not exist or be an empty folder."""
    if fmt not in FORMATS:
        raise InvalidInput(f"unknown export format {fmt[:40]!r}; choose one of {', '.join(FORMATS)}")
    target = Path(out)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise InvalidInput(f"{target} already exists and is not an empty folder; choose a new one")
    tables = select_tables(lakehouse, study=study, valid_only=valid_only)
    if tables.keystrokes.is_empty() and fmt != "parquet":
        raise InvalidInput("nothing to export: no keystrokes match" + (f" study {study!r}" if study else ""))
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        report = FORMATS[fmt](tables, staging)
        with contextlib.suppress(FileNotFoundError):
            target.rmdir()
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return {"format": fmt, "out": str(target), "study": study, "valid_only": valid_only, **report}


def export_archive(
    lakehouse: Lakehouse, fmt: str, *, study: str | None = None, valid_only: bool = False
) -> tuple[bytes, dict[str, Any]]:
    """The same export as a zip archive in memory, for a download button; and its report."""
    with tempfile.TemporaryDirectory(prefix="flowtype-export-") as scratch:
        folder = Path(scratch) / f"flowtype-{fmt}"
        report = export(lakehouse, fmt, folder, study=study, valid_only=valid_only)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    archive.write(path, path.relative_to(folder.parent).as_posix())
    report["out"] = f"flowtype-{fmt}.zip"
    return buffer.getvalue(), report


__all__ = ["FORMATS", "export", "export_archive"]
