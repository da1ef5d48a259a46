"""Table contracts (SPEC §2): one place that names every column, its type and each table's key."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

TS = pl.Datetime("us", "UTC")


@dataclass(frozen=True)
class TableSpec:
    """A lakehouse table: its columns in order and the key that identifies a row."""

    name: str
    columns: dict[str, pl.DataType]
    key: tuple[str, ...]

    @property
    def schema(self) -> pl.Schema:
        return pl.Schema(self.columns)

    def conform(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Select and cast to the contract so every writer produces identical files."""
        missing = [c for c in self.columns if c not in frame.columns]
        if missing:
            raise ValueError(f"{self.name}: missing columns {missing}")
        return frame.select([pl.col(c).cast(t, strict=True) for c, t in self.columns.items()])

    def empty(self) -> pl.DataFrame:
        return pl.DataFrame(schema=self.schema)


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
    },
    ("participant_id", "test_section_id"),
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
    },
    ("participant_id", "session_id"),
)

TABLES: dict[str, TableSpec] = {t.name: t for t in (KEYSTROKES, SECTIONS, SESSIONS)}

SESSION_STATUSES = ("in_progress", "completed", "abandoned")
