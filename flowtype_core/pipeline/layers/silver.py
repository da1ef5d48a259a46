"""Silver: type, validate and de-duplicate the bronze rows newer than silver's watermark."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import narwhals as nw

from flowtype_core.pipeline import batches, transforms
from flowtype_core.pipeline.catalog import Catalog, TableWrite
from flowtype_core.pipeline.layers.context import LayerResult, PipelineContext
from flowtype_core.pipeline.layers.steps import (
    from_micros,
    newer_than,
    next_time,
    participant_counts,
    timed,
    to_micros,
    valid_section_keys,
    write,
)
from flowtype_core.pipeline.tables import (
    BRONZE_KEYSTROKES,
    BRONZE_SECTIONS,
    INGESTED_AT,
    PROCESSED_AT,
    SECTION_KEY,
    SILVER_KEYSTROKES,
    SILVER_QUARANTINE,
    SOURCE_FILE,
)

SILVER_APP = "flowtype.silver"


def run_silver(ctx: PipelineContext) -> LayerResult:
    """Type, validate and de-duplicate bronze rows newer than silver's watermark.

    A group of whole participants at a time (`batches.participant_groups`); the watermark is
    committed with the last group's keystrokes, so an interrupted run is redone whole.
    """

    def work(result: LayerResult) -> None:
        catalog = ctx.catalog
        bronze = catalog.scan(BRONZE_KEYSTROKES)
        if bronze is None:
            return
        newer = newer_than(bronze, INGESTED_AT, catalog.marker(SILVER_KEYSTROKES, SILVER_APP))
        counts = participant_counts(catalog, newer)
        result.rows_in = int(counts.get_column(batches.COUNT).sum()) if counts.height else 0
        if result.rows_in == 0:
            return
        ctx.progress(0.0, f"silver: {result.rows_in} new bronze rows")
        top = catalog.to_polars(newer.select(nw.col(INGESTED_AT).max().alias("top")).to_native())
        watermark = to_micros(top.item(0, "top"))
        processed_at = next_time(catalog, (SILVER_KEYSTROKES, SILVER_QUARANTINE), PROCESSED_AT)
        groups = batches.by_participants(newer, counts, catalog.batch_rows)
        for number, (_, rows) in enumerate(groups, start=1):
            new = catalog.materialize(rows.to_native())
            marker = (SILVER_APP, watermark) if number == len(groups) else None
            _silver_group(catalog, result, new, processed_at=processed_at, marker=marker)
        result.details["watermark"] = from_micros(watermark).isoformat()
        result.details["groups"] = len(groups)

    return timed("silver", work)


def _silver_group(
    catalog: Catalog, result: LayerResult, new: Any, *, processed_at: datetime, marker: tuple[str, int] | None
) -> None:
    """Silver keystrokes and quarantine of one group's new bronze rows, replacing their sections."""
    batch = nw.from_native(new)
    section_keys = valid_section_keys(catalog.to_polars(batch.select(*SECTION_KEY).unique().to_native()))
    files = catalog.to_polars(batch.select(SOURCE_FILE).unique().to_native())
    sections_scan = catalog.scan(BRONZE_SECTIONS)
    sections = (
        nw.from_native(sections_scan).join(
            batch.select(*SECTION_KEY).unique(), on=list(SECTION_KEY), how="semi"
        )
        if sections_scan is not None
        else batch.select(
            *SECTION_KEY,
            nw.col(INGESTED_AT),
            *(nw.lit(None, dtype=nw.String).alias(c) for c in ("sentence_id", "quality_flags")),
        ).head(0)
    )
    silver, quarantine = catalog.materialize_all(
        *transforms.silver_tables(new, sections.to_native(), processed_at=processed_at)
    )
    result.quarantined += catalog.count(quarantine)
    write(result, catalog, TableWrite(SILVER_QUARANTINE, quarantine, replace_keys=files))
    # The watermark goes with the keystrokes, after the quarantine has committed.
    write(result, catalog, TableWrite(SILVER_KEYSTROKES, silver, replace_keys=section_keys, marker=marker))
