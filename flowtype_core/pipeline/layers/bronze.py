"""Bronze: append the rows of every session CSV file not ingested before (by path and content hash).

A file whose path, size and mtime match an ingested one is not even read, so a re-run with nothing
new reads a little and writes nothing.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import polars as pl

from flowtype_core.pipeline import batches, transforms
from flowtype_core.pipeline.catalog import TableWrite
from flowtype_core.pipeline.layers.context import LayerResult, PipelineContext
from flowtype_core.pipeline.layers.steps import next_time, timed, write
from flowtype_core.pipeline.tables import BRONZE_SOURCES, INGESTED_AT, SOURCE_FILE, SOURCE_HASH, SOURCES


def list_sources(sessions_dir: Path) -> pl.DataFrame:
    """Every per-session CSV file: its bronze table, path, store-relative name, size and mtime."""
    tables = {source.file_name: source.table for source in SOURCES}
    root = Path(sessions_dir)
    rows = []
    for participant in sorted(os.scandir(root), key=lambda e: e.name) if root.is_dir() else []:
        if not participant.is_dir():
            continue
        for session in sorted(os.scandir(participant.path), key=lambda e: e.name):
            if not session.is_dir():
                continue
            for entry in os.scandir(session.path):
                if entry.name in tables and entry.is_file():
                    stat = entry.stat()
                    relative = f"{root.name}/{participant.name}/{session.name}/{entry.name}"
                    rows.append((tables[entry.name], entry.path, relative, stat.st_size, stat.st_mtime_ns))
    return pl.DataFrame(
        rows,
        schema={
            "table": pl.String,
            "path": pl.String,
            SOURCE_FILE: pl.String,
            "size": pl.Int64,
            "mtime_ns": pl.Int64,
        },
        orient="row",
    )


def _sha256(path: str) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def new_sources(files: pl.DataFrame, manifest: pl.DataFrame | None) -> pl.DataFrame:
    """The files whose content (path + sha256) bronze has not ingested, with their hash.

    A file whose path, size and mtime match an ingested one is not even read: re-runs stay cheap.
    """
    if manifest is not None:
        files = files.join(
            manifest.select(SOURCE_FILE, "size", "mtime_ns"), on=[SOURCE_FILE, "size", "mtime_ns"], how="anti"
        )
    hashed = files.with_columns(pl.Series(SOURCE_HASH, [_sha256(p) for p in files["path"]], dtype=pl.String))
    if manifest is not None:
        hashed = hashed.join(
            manifest.select(SOURCE_FILE, SOURCE_HASH), on=[SOURCE_FILE, SOURCE_HASH], how="anti"
        )
    return hashed


def run_bronze(ctx: PipelineContext) -> LayerResult:
    """Append the rows of every CSV file not ingested before (by path and content hash).

    Files are read a group at a time (`batches.file_groups`), each group's rows appended before
    the next is read; the manifest is written once all are in.
    """

    def work(result: LayerResult) -> None:
        catalog = ctx.catalog
        known = catalog.scan(BRONZE_SOURCES)
        manifest = None if known is None else catalog.to_polars(known)
        files = new_sources(list_sources(ctx.sessions_dir), manifest)
        if files.is_empty():
            return
        ingested_at = next_time(catalog, (BRONZE_SOURCES,), INGESTED_AT)
        for source in SOURCES:
            count = files.filter(pl.col("table") == source.table).height
            result.details[f"{source.file_name} files"] = count
            if count:
                ctx.progress(0.0, f"bronze: {count} new {source.file_name} files")
        for group in batches.file_groups(files, catalog.batch_rows):
            writes = []
            for source in SOURCES:
                candidates = group.filter(pl.col("table") == source.table)
                if candidates.is_empty():
                    continue
                raw = catalog.read_csv_text(
                    candidates.select("path", SOURCE_FILE, SOURCE_HASH), source.columns
                )
                rows = catalog.materialize(
                    transforms.bronze_rows(raw, source.columns, ingested_at=ingested_at)
                )
                result.rows_in += catalog.count(rows)
                writes.append(TableWrite(source.table, rows))
            write(result, catalog, *writes)
        # Recorded last, once every group has committed: a crash or a failed write before this
        # re-ingests the files, and silver keeps the latest copy.
        ingested = files.select(
            SOURCE_FILE, SOURCE_HASH, "size", "mtime_ns", "table", pl.lit(ingested_at).alias(INGESTED_AT)
        )
        catalog.write(BRONZE_SOURCES, catalog.frame(ingested))
        result.details["files"] = ingested.height

    return timed("bronze", work)
