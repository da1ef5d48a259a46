"""Metrics with the validity rules applied: what `metrics --valid-only` and a dashboard's "valid
sections only" view compute, and how many sections the rules flagged or left out."""

from __future__ import annotations

import polars as pl

from flowtype_core import metrics
from flowtype_core.quality.flags import RECORDED, flag_sections

ROW_KEY = ["participant_id", "test_section_id"]  # the sections table's key (schema.SECTIONS)


def assessed_sections(
    keystrokes: pl.DataFrame | pl.LazyFrame, recorded: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Section metrics of `keystrokes` with `quality_flags` and `valid`, judged now.

    Judging the keystrokes (instead of trusting stored rows) also covers data stored before the
    rules existed. `recorded` (stored section rows) supplies only the provenance flags the
    capture reported (tab_hidden, focus_lost), which keystrokes cannot show.
    """
    sections = metrics.section_metrics(keystrokes)
    if isinstance(sections, pl.LazyFrame):
        sections = sections.collect()
    if recorded is not None and RECORDED in recorded.columns:
        sections = sections.join(recorded.select(*ROW_KEY, RECORDED), on=ROW_KEY, how="left")
    return flag_sections(sections, keystrokes)


def valid_sections(sections: pl.DataFrame) -> tuple[pl.DataFrame, int]:
    """The sections to average over when invalid ones are excluded, and how many were excluded.

    A row whose `valid` is null was never assessed (stored before the rules) and is kept.
    """
    kept = sections.filter(pl.col("valid").fill_null(value=True))
    return kept, sections.height - kept.height


def counted_summary(sections: pl.DataFrame, *, valid_only: bool = False) -> dict[str, float | int | None]:
    """Population figures (SPEC §3.5) over all sections, or over valid ones with `valid_only`,
    plus `flagged_sections` and `invalid_sections`: counts over all sections either way.

    Rows without the quality columns (gold written before the rules) count as never assessed.
    """
    for column, dtype in ((RECORDED, pl.String), ("valid", pl.Boolean)):
        if column not in sections.columns:
            sections = sections.with_columns(pl.lit(None, dtype).alias(column))
    kept, invalid = valid_sections(sections)
    summary = metrics.population_summary(metrics.participant_metrics(kept if valid_only else sections))
    flagged = sections.filter(pl.col(RECORDED).fill_null("") != "").height
    return {**summary, "flagged_sections": flagged, "invalid_sections": invalid}
