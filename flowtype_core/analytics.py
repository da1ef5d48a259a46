"""Queries behind the dashboards and the `metrics` command: filtered data, summaries, exports.

Everything reads from the lakehouse (the first configured one) and computes with the shared
metric definitions, so a notebook, the CLI and the Analytics page show the same numbers.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

import polars as pl

from flowtype_core import metrics
from flowtype_core.lakehouse.base import Lakehouse


@dataclass(frozen=True)
class Filters:
    """What the analyst narrowed the data to; `participants` is forced for participant users."""

    participants: tuple[str, ...] = ()
    sessions: tuple[str, ...] = ()
    start: date | None = None
    end: date | None = None


def load_keystrokes(lakehouse: Lakehouse, filters: Filters = Filters()) -> pl.DataFrame:
    """Keystrokes matching the filters (participant, session, press date range)."""
    if len(filters.participants) == 1:
        frame = lakehouse.read_table("keystrokes", participant_id=filters.participants[0])
    else:
        frame = lakehouse.read_table("keystrokes")
        if filters.participants:
            frame = frame.filter(pl.col("participant_id").is_in(list(filters.participants)))
    if filters.sessions:
        frame = frame.filter(pl.col("session_id").is_in(list(filters.sessions)))
    if filters.start is not None:
        frame = frame.filter(pl.col("press_time") >= _ms(datetime.combine(filters.start, time.min)))
    if filters.end is not None:
        frame = frame.filter(pl.col("press_time") <= _ms(datetime.combine(filters.end, time.max)))
    return frame


def _ms(moment: datetime) -> int:
    return int(moment.replace(tzinfo=UTC).timestamp() * 1000)


def population_summary(keystrokes: pl.DataFrame | pl.LazyFrame) -> dict[str, float | int | None]:
    """The population table (SPEC §3.5) for these keystrokes, as the `metrics --json` keys."""
    return metrics.population_summary(metrics.participant_metrics(metrics.section_metrics(keystrokes)))


def csv_bytes(frame: pl.DataFrame) -> bytes:
    """CSV for spreadsheets: text cells that a spreadsheet would run as a formula are neutralised."""
    safe = frame.with_columns(
        pl.when(pl.col(c).str.contains(r"^[=+\-@\t\r]"))
        .then(pl.lit("'") + pl.col(c))
        .otherwise(pl.col(c))
        .alias(c)
        for c, dtype in frame.schema.items()
        if dtype == pl.String
    )
    buffer = io.BytesIO()
    safe.write_csv(buffer)
    return buffer.getvalue()


def parquet_bytes(frame: pl.DataFrame) -> bytes:
    """Parquet keeps values exactly as stored (no spreadsheet risk, so no neutralising)."""
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    return buffer.getvalue()
