"""The four tables as Parquet files, readable by any engine (pandas, DuckDB, Spark)."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Any

from flowtype_core.export.selection import ExportTables


def write(tables: ExportTables, out: Path) -> dict[str, Any]:
    counts = {}
    for field in fields(tables):
        frame = getattr(tables, field.name)
        frame.write_parquet(out / f"{field.name}.parquet")
        counts[field.name] = frame.height
    return counts
