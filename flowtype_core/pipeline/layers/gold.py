"""Gold: recompute the metrics of the sections silver changed, then their participants' tables."""

from __future__ import annotations

from typing import Any

import narwhals as nw
import polars as pl

from flowtype_core.pipeline import batches, transforms
from flowtype_core.pipeline.catalog import Catalog, TableWrite
from flowtype_core.pipeline.layers.context import LayerResult, PipelineContext
from flowtype_core.pipeline.layers.steps import (
    PARTICIPANT_KEY,
    from_micros,
    newer_than,
    participant_counts,
    timed,
    to_micros,
    valid_section_keys,
    write,
)
from flowtype_core.pipeline.tables import (
    GOLD_RANKER_UNITS,
    GOLD_SECTIONS,
    PROCESSED_AT,
    SECTION_KEY,
    SILVER_KEYSTROKES,
    SILVER_QUARANTINE,
)
from flowtype_core.scalars import moment

GOLD_MARKER_TABLE = GOLD_RANKER_UNITS  # the last table gold writes
GOLD_APP = "flowtype.gold"


def _changed_sections(catalog: Catalog, watermark: int | None) -> pl.DataFrame:
    """Section keys and processing times of silver and quarantine rows newer than `watermark`."""
    parts = []
    for table in (SILVER_KEYSTROKES, SILVER_QUARANTINE):
        scan = catalog.scan(table)
        if scan is not None:
            changed = newer_than(scan, PROCESSED_AT, watermark).group_by(*SECTION_KEY)
            parts.append(changed.agg(nw.col(PROCESSED_AT).max()).to_native())
    frames = [valid_section_keys(catalog.to_polars(part)) for part in parts]
    return pl.concat(frames) if frames else pl.DataFrame()


def run_gold(ctx: PipelineContext) -> LayerResult:
    """Recompute the metrics of sections silver changed, then the tables of their participants.

    A group of whole participants at a time (`batches.participant_groups`, sized by their silver
    rows); the watermark is committed with the last group's last table.
    """

    def work(result: LayerResult) -> None:
        catalog = ctx.catalog
        changed = _changed_sections(catalog, catalog.marker(GOLD_MARKER_TABLE, GOLD_APP))
        silver_scan = catalog.scan(SILVER_KEYSTROKES)
        if changed.is_empty() or silver_scan is None:
            return
        watermark = to_micros(moment(changed[PROCESSED_AT].max()))
        sections_keys = changed.select(*SECTION_KEY).unique()
        participants = changed.select(*PARTICIPANT_KEY).unique()
        ctx.progress(0.0, f"gold: {sections_keys.height} sections of {participants.height} participants")
        people = nw.from_native(catalog.frame(participants))
        theirs = nw.from_native(silver_scan).join(people, on=list(PARTICIPANT_KEY), how="semi")
        # Participants whose sections all left silver (quarantined, deleted) count 0 rows: their
        # gold rows are still replaced (by none).
        counts = participants.join(
            participant_counts(catalog, theirs), on=list(PARTICIPANT_KEY), how="left"
        ).with_columns(pl.col(batches.COUNT).fill_null(0))
        groups = batches.by_participants(theirs, counts, catalog.batch_rows)
        for number, (ids, rows) in enumerate(groups, start=1):
            group = pl.DataFrame({"participant_id": ids}, schema={"participant_id": pl.String})
            keys = sections_keys.join(group, on="participant_id", how="semi")
            marker = (GOLD_APP, watermark) if number == len(groups) else None
            _gold_group(catalog, result, rows, group, keys, marker)
        result.details["watermark"] = from_micros(watermark).isoformat()
        result.details["groups"] = len(groups)

    return timed("gold", work)


def _gold_group(
    catalog: Catalog,
    result: LayerResult,
    silver: nw.LazyFrame[Any],
    participants: pl.DataFrame,
    sections_keys: pl.DataFrame,
    marker: tuple[str, int] | None,
) -> None:
    """Gold sections (the changed ones) and participant tables of one group of participants."""
    people = nw.from_native(catalog.frame(participants))
    # Everything of the group's participants is read once; the changed sections are a subset.
    their_keystrokes = catalog.materialize(silver.to_native())
    touched = nw.from_native(their_keystrokes).join(
        nw.from_native(catalog.frame(sections_keys)), on=list(SECTION_KEY), how="semi"
    )
    result.rows_in += catalog.count(touched.to_native())
    write(
        result,
        catalog,
        TableWrite(
            GOLD_SECTIONS,
            catalog.materialize(transforms.gold_section_rows(touched.to_native())),
            replace_keys=sections_keys,
        ),
    )
    sections = catalog.materialize(
        nw.from_native(catalog.scan(GOLD_SECTIONS))
        .join(people, on=list(PARTICIPANT_KEY), how="semi")
        .to_native()
    )
    tables = transforms.participant_tables(sections, their_keystrokes)
    frames = dict(zip(tables, catalog.materialize_all(*tables.values()), strict=True))
    last = frames.pop(GOLD_MARKER_TABLE)
    write(result, catalog, *(TableWrite(t, f, replace_keys=participants) for t, f in frames.items()))
    # The watermark goes with the last table, once all the others have committed: a crash or a
    # failed write before it makes the next run redo them all.
    write(result, catalog, TableWrite(GOLD_MARKER_TABLE, last, replace_keys=participants, marker=marker))
