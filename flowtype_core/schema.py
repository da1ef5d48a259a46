"""Table contracts (SPEC §2): one place that names every column, its type and each table's key."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeAlias

import polars as pl
from polars.datatypes import DataTypeClass

ColumnType: TypeAlias = pl.DataType | DataTypeClass
"""A column's polars type: a class (`pl.String`) or an instance (`pl.Datetime("us", "UTC")`)."""

TS = pl.Datetime("us", "UTC")


@dataclass(frozen=True)
class TableSpec:
    """A lakehouse table: its columns in order and the key that identifies a row.

    `added` names the columns a later version introduced, with the value a writer that does not
    know them yet gets (`conform`). Data written before they existed reads them as null: the
    CSV store, both lakehouses and the pipeline migrate such data in place by adding the column.
    """

    name: str
    columns: dict[str, ColumnType]
    key: tuple[str, ...]
    added: dict[str, object] = field(default_factory=dict)

    @property
    def schema(self) -> pl.Schema:
        return pl.Schema(self.columns)

    def conform(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Select and cast to the contract so every writer produces identical files.

        A column of `added` that the frame lacks takes its default; any other is an error.
        """
        missing = [c for c in self.columns if c not in frame.columns and c not in self.added]
        if missing:
            raise ValueError(f"{self.name}: missing columns {missing}")
        return frame.select(
            [
                (pl.col(c) if c in frame.columns else pl.lit(self.added[c])).cast(t, strict=True).alias(c)
                for c, t in self.columns.items()
            ]
        )

    def with_added(self, frame: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame | pl.LazyFrame:
        """Data written before the `added` columns existed, with them as null (never assessed)."""
        present = frame.collect_schema().names()
        return frame.with_columns(
            pl.lit(None, dtype=self.columns[c]).alias(c) for c in self.added if c not in present
        )

    def empty(self) -> pl.DataFrame:
        return pl.DataFrame(schema=self.schema)


# Which study protocol a row was recorded under (null when no study).
STUDY_COLUMNS: dict[str, ColumnType] = {
    "study_id": pl.String,
    "protocol_version": pl.String,
    "condition": pl.String,
}
# Timing provenance the capture component reports per session (null for imported data).
PROVENANCE_COLUMNS: dict[str, ColumnType] = {
    "timer_resolution_ms": pl.Float64,
    "cross_origin_isolated": pl.Boolean,
    "user_agent": pl.String,
    "hidden_ms": pl.Int64,
    "blur_count": pl.Int32,
}

KEYSTROKES = TableSpec(
    "keystrokes",
    {
        "participant_id": pl.String,
        "session_id": pl.String,
        "test_section_id": pl.String,
        "sentence": pl.String,
        "user_input": pl.String,
        "keystroke_id": pl.Int64,
        "press_time": pl.Int64,
        "release_time": pl.Int64,
        "letter": pl.String,
        "keycode": pl.Int32,
        "created_at": TS,
    },
    ("participant_id", "test_section_id", "keystroke_id"),
)

SECTIONS = TableSpec(
    "sections",
    {
        "participant_id": pl.String,
        "session_id": pl.String,
        "test_section_id": pl.String,
        "sentence_id": pl.String,
        "sentence": pl.String,
        "user_input": pl.String,
        "started_at": TS,
        "completed_at": TS,
        "keystroke_count": pl.Int64,
        "wpm": pl.Float64,
        "error_rate": pl.Float64,
        "kspc": pl.Float64,
        "mean_iki_ms": pl.Float64,
        "quality_flags": pl.String,
        "valid": pl.Boolean,
        **STUDY_COLUMNS,
    },
    ("participant_id", "test_section_id"),
    # Until the validity rules run on a row it counts as clean and valid (flowtype_core.quality).
    {"quality_flags": "", "valid": True, **dict.fromkeys(STUDY_COLUMNS)},
)

SESSIONS = TableSpec(
    "sessions",
    {
        "participant_id": pl.String,
        "session_id": pl.String,
        "created_at": TS,
        "ended_at": TS,
        "status": pl.String,
        "sentence_count": pl.Int64,
        "total_keystrokes": pl.Int64,
        "average_wpm": pl.Float64,
        "average_error_rate": pl.Float64,
        **PROVENANCE_COLUMNS,
        **STUDY_COLUMNS,
    },
    ("participant_id", "session_id"),
    dict.fromkeys([*PROVENANCE_COLUMNS, *STUDY_COLUMNS]),
)

PARTICIPANTS = TableSpec(
    "participants",
    {
        "participant_id": pl.String,
        **STUDY_COLUMNS,
        "answers": pl.String,  # questionnaire answers, a JSON object
        "recruitment": pl.String,  # recruitment ids (e.g. PROLIFIC_PID), a JSON object
        "created_at": TS,
        "updated_at": TS,
    },
    ("participant_id", "study_id"),
)

TABLES: dict[str, TableSpec] = {t.name: t for t in (KEYSTROKES, SECTIONS, SESSIONS, PARTICIPANTS)}

SESSION_STATUSES = ("in_progress", "completed", "abandoned")
