"""Bronze, silver and gold transforms: plain functions from frames to frames, written once.

Each takes and returns native frames (polars LazyFrame/DataFrame locally, PySpark DataFrame on
Databricks) and expresses its logic with narwhals; gold reuses `flowtype_core.metrics`, so the
pipeline, the app and the notebooks compute every figure with the same code. Reading and writing
tables is the catalog's job (`catalog.py`), scheduling the runners' (`runners/`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import narwhals as nw
from narwhals import Implementation

from flowtype_core import metrics, quality
from flowtype_core.pipeline.expectations import (
    INTEGERS,
    PARSED_COLUMNS,
    first_failed_rule,
    parsed,
    parsed_integers,
)
from flowtype_core.pipeline.tables import (
    GOLD_DIGRAPHS,
    GOLD_PARTICIPANTS,
    GOLD_RANKER_EXAMPLES,
    GOLD_RANKER_UNITS,
    GOLD_SECTIONS,
    GOLD_SESSIONS,
    INGESTED_AT,
    PROCESSED_AT,
    RULE,
    SECTION_KEY,
    SOURCE_FILE,
    SOURCE_HASH,
)
from flowtype_core.ranker import examples as ranker_examples
from flowtype_core.schema import KEYSTROKES, STUDY_COLUMNS

LINEAGE = (SOURCE_FILE, SOURCE_HASH, INGESTED_AT)
# The store writes `created_at` as `2026-11-22T14:30:22.123456Z`. polars needs that spelled out;
# Spark's own ISO-8601 parser reads it as it is (narwhals passes `None` through to it).
_STORE_TIME_FORMAT = {Implementation.POLARS: "%Y-%m-%dT%H:%M:%S%.fZ"}
# Silver keeps, per keystroke, what its section row says besides the keystrokes themselves: the
# sentence id, the recorder's flags and the study it was recorded under (issue 17).
RECORDED_FLAGS = "recorded_flags"
SECTION_ATTRIBUTES = ("sentence_id", RECORDED_FLAGS, *STUDY_COLUMNS)


def _column_or_null(names: list[str], column: str, alias: str | None = None) -> nw.Expr:
    """A column rows written before it existed lack: null there (never assessed, no study)."""
    expr = nw.col(column) if column in names else nw.lit(None, dtype=nw.String)
    return expr.alias(alias or column)


def _lazy(frame: Any) -> nw.LazyFrame[Any]:
    wrapped = nw.from_native(frame)
    return wrapped.lazy() if isinstance(wrapped, nw.DataFrame) else wrapped


def bronze_rows(raw: Any, columns: tuple[str, ...], *, ingested_at: datetime) -> Any:
    """CSV text as ingested: one text column per contract column (absent ones null) plus lineage.

    `raw` holds the file's columns as text and `_source_file`, `_source_hash`.
    """
    frame = _lazy(raw)
    present = set(frame.collect_schema().names())
    return frame.select(
        *(
            nw.col(c).cast(nw.String) if c in present else nw.lit(None, dtype=nw.String).alias(c)
            for c in columns
        ),
        nw.col(SOURCE_FILE),
        nw.col(SOURCE_HASH),
        nw.lit(ingested_at).alias(INGESTED_AT),
    ).to_native()


def latest_ingestion(bronze: Any) -> Any:
    """Only each section's most recent ingestion: a re-submitted section replaces all its old rows."""
    frame = _lazy(bronze)
    newest = nw.col(INGESTED_AT).max().over(*SECTION_KEY)
    return frame.filter(nw.col(INGESTED_AT) == newest).to_native()


def check_expectations(bronze: Any) -> Any:
    """Bronze rows with `rule`: the first expectation each breaks (null for rows that pass), and
    their integer columns parsed once (`expectations.parsed_integers`) for the rules and silver."""
    return _lazy(bronze).with_columns(*parsed_integers()).with_columns(first_failed_rule()).to_native()


def quarantine_rows(checked: Any, *, processed_at: datetime) -> Any:
    """Rows that broke a rule, as ingested, with the rule's name."""
    frame = _lazy(checked)
    return (
        frame.filter(~nw.col(RULE).is_null())
        .drop(*PARSED_COLUMNS)
        .with_columns(nw.lit(processed_at).alias(PROCESSED_AT))
        .to_native()
    )


def _typed(column: str) -> nw.Expr:
    if column == "keycode":
        return parsed(column).cast(nw.Int32).alias(column)
    if column in INTEGERS:
        return parsed(column).alias(column)
    return nw.col(column)


def typed_keystrokes(checked: Any, section_attributes: Any) -> Any:
    """Rows that passed every rule, typed to the keystrokes contract, with their section's
    sentence id and recorded flags (`section_attributes`, from the sections files)."""
    frame = _lazy(checked).filter(nw.col(RULE).is_null())
    time_format = _STORE_TIME_FORMAT.get(frame.implementation)
    created_at = nw.col("created_at").str.to_datetime(time_format)
    if frame.implementation is Implementation.POLARS:
        created_at = created_at.dt.replace_time_zone("UTC")
    typed = frame.select(
        *(_typed(c) for c in KEYSTROKES.columns if c != "created_at"),
        created_at.alias("created_at"),
        nw.col(SOURCE_FILE),
        nw.col(INGESTED_AT),
    )
    attributes = _lazy(section_attributes).select(*SECTION_KEY, *SECTION_ATTRIBUTES)
    return typed.join(attributes, on=list(SECTION_KEY), how="left").to_native()


def section_attributes(bronze_sections: Any) -> Any:
    """Per section, its sentence id and the flags the recorder gave it (`recorded_flags`: silver
    keeps them so gold can carry the capture's provenance flags, see `flowtype_core.quality`),
    from each section's latest ingestion."""
    latest = _lazy(latest_ingestion(bronze_sections))
    names = latest.collect_schema().names()
    return (
        latest.select(
            *SECTION_KEY,
            "sentence_id",
            _column_or_null(names, "quality_flags", RECORDED_FLAGS),
            *(_column_or_null(names, c) for c in STUDY_COLUMNS),
        )
        .unique(subset=list(SECTION_KEY))
        .to_native()
    )


def silver_rows(typed: Any, *, processed_at: datetime) -> Any:
    """Typed keystrokes with the per-press features (hold, IKI, rollover, digraph) of SPEC §3.5."""
    featured = _lazy(metrics.keystroke_features(typed))
    return featured.with_columns(nw.lit(processed_at).alias(PROCESSED_AT)).to_native()


def gold_section_rows(silver: Any) -> Any:
    """Per-section metrics (flowtype_core.metrics.section_metrics) with the section's sentence id,
    flagged by the validity rules (flowtype_core.quality) from the silver keystrokes."""
    frame = _lazy(silver)
    names = frame.collect_schema().names()
    ids = frame.select(
        *SECTION_KEY,
        "sentence_id",
        _column_or_null(names, RECORDED_FLAGS, "quality_flags"),
        *(_column_or_null(names, c) for c in STUDY_COLUMNS),
    ).unique(subset=list(SECTION_KEY))
    sections = _lazy(metrics.section_metrics(frame.to_native())).join(ids, on=list(SECTION_KEY), how="left")
    return quality.flag_sections(sections.to_native(), frame.to_native())


def gold_session_rows(sections: Any) -> Any:
    """Per-session means over sections (flowtype_core.metrics.session_metrics), with the study the
    session was recorded under (fixed per session)."""
    frame = nw.from_native(sections)  # eager or lazy, as session_metrics answers
    names = frame.collect_schema().names()
    key = ["participant_id", "session_id"]
    study = frame.select(*key, *(_column_or_null(names, c) for c in STUDY_COLUMNS)).unique(subset=key)
    means = nw.from_native(metrics.session_metrics(sections))
    return means.join(study, on=key, how="left").to_native()


def gold_participant_rows(sections: Any) -> Any:
    """Per-participant means over sections (flowtype_core.metrics.participant_metrics)."""
    return metrics.participant_metrics(sections)


def gold_digraph_rows(silver: Any) -> Any:
    """Per-participant digraph latencies (flowtype_core.metrics.digraph_latencies)."""
    return metrics.digraph_latencies(silver)


def participant_tables(sections: Any, silver: Any) -> dict[str, Any]:
    """Gold tables recomputed per participant from all their sections and silver keystrokes.

    Sessions, participants, digraphs and the ranker's training examples and key/digraph history
    (`flowtype_core.ranker.examples`): each depends on all of a participant's sections. The ranker
    units table comes last: gold commits its watermark with it.
    """
    return {
        GOLD_SESSIONS: gold_session_rows(sections),
        GOLD_PARTICIPANTS: gold_participant_rows(sections),
        GOLD_DIGRAPHS: gold_digraph_rows(silver),
        GOLD_RANKER_EXAMPLES: ranker_examples.build_examples(sections, silver),
        GOLD_RANKER_UNITS: ranker_examples.build_units(silver),
    }


def silver_tables(bronze_keystrokes: Any, bronze_sections: Any, *, processed_at: datetime) -> tuple[Any, Any]:
    """Silver keystrokes and quarantine from a batch of bronze rows: the whole silver layer."""
    checked = check_expectations(latest_ingestion(bronze_keystrokes))
    typed = typed_keystrokes(checked, section_attributes(bronze_sections))
    return silver_rows(typed, processed_at=processed_at), quarantine_rows(checked, processed_at=processed_at)


def gold_tables(silver: Any) -> dict[str, Any]:
    """Every gold table from silver keystrokes, non-incrementally: for notebooks and parity checks."""
    sections = gold_section_rows(silver)
    return {GOLD_SECTIONS: sections, **participant_tables(sections, silver)}
