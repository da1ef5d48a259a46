"""Pieces every layer uses: watermark times, timing a run, counting writes, new rows, groups.

Watermarks are epoch microseconds, committed with the data they cover.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import narwhals as nw
import polars as pl

from flowtype_core.pipeline import batches
from flowtype_core.pipeline.catalog import Catalog, TableWrite
from flowtype_core.pipeline.expectations import has_valid_section_key
from flowtype_core.pipeline.layers.context import LayerResult

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
PARTICIPANT_KEY = ("participant_id",)


def to_micros(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1)


def from_micros(micros: int) -> datetime:
    return EPOCH + timedelta(microseconds=micros)


def next_time(catalog: Catalog, tables: tuple[str, ...], column: str) -> datetime:
    """Now, but strictly after every `column` value already written (watermarks must increase)."""
    moment = datetime.now(UTC)
    for table in tables:
        scan = catalog.scan(table)
        if scan is None:
            continue
        latest = catalog.to_polars(nw.from_native(scan).select(nw.col(column).max()).to_native()).item()
        if latest is not None and latest >= moment:
            moment = latest + timedelta(microseconds=1)
    return moment


def timed(layer: str, work: Callable[[LayerResult], None]) -> LayerResult:
    """Run `work` on a fresh result for `layer` and record how long it took."""
    result = LayerResult(layer)
    started = time.perf_counter()
    work(result)
    result.seconds = round(time.perf_counter() - started, 3)
    return result


def write(result: LayerResult, catalog: Catalog, *writes: TableWrite) -> None:
    """Commit writes to different tables (side by side where the catalog can) and count their rows."""
    for table_write, written in zip(writes, catalog.write_all(writes), strict=True):
        result.tables[table_write.table] = result.tables.get(table_write.table, 0) + written
        result.rows_written += written


def valid_section_keys(keys: pl.DataFrame) -> pl.DataFrame:
    """The rows of distinct section keys whose ids can name rows to replace downstream.

    Checked on the driver once the keys are distinct: in a lazy plan the check would be pushed
    down below the `unique`/`group_by` and run once per keystroke.
    """
    return nw.from_native(keys).filter(has_valid_section_key()).to_native()


def newer_than(scan: Any, column: str, watermark: int | None) -> nw.LazyFrame[Any]:
    """The rows of `scan` whose `column` is after the watermark (all of them without one)."""
    frame = nw.from_native(scan)
    return frame if watermark is None else frame.filter(nw.col(column) > nw.lit(from_micros(watermark)))


def participant_counts(catalog: Catalog, frame: nw.LazyFrame[Any]) -> pl.DataFrame:
    """(participant_id, rows) of a frame: what `batches.participant_groups` splits."""
    counts = frame.group_by(batches.PARTICIPANT).agg(nw.len().alias(batches.COUNT))
    return catalog.to_polars(counts.to_native())
