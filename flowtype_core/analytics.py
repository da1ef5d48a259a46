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


@dataclass(frozen=True)
class Dashboard:
    """Everything the Analytics page draws, computed once per filter change."""

    keystrokes: pl.DataFrame
    features: pl.DataFrame
    sections: pl.DataFrame
    sessions: pl.DataFrame
    participants: pl.DataFrame
    digraphs: pl.DataFrame
    keys: pl.DataFrame
    summary: dict[str, float | int | None]


def build_dashboard(keystrokes: pl.DataFrame) -> Dashboard:
    """Section, session and participant metrics, digraphs and keys for the filtered keystrokes."""
    sections = metrics.section_metrics(keystrokes)
    participants = metrics.participant_metrics(sections)
    digraphs = (
        metrics.digraph_latencies(keystrokes)
        .group_by("digraph", "first", "second")
        .agg(
            ((pl.col("latency_mean_ms") * pl.col("count")).sum() / pl.col("count").sum()).alias("latency_ms"),
            pl.col("count").sum(),
        )
    )
    return Dashboard(
        keystrokes=keystrokes,
        features=metrics.keystroke_features(keystrokes),
        sections=sections,
        sessions=metrics.session_metrics(sections).sort("participant_id", "started_at"),
        participants=participants,
        digraphs=digraphs,
        keys=metrics.key_stats(keystrokes),
        summary=metrics.population_summary(participants) if participants.height else {},
    )


def percentile_of(values: pl.Series, value: float | None) -> float | None:
    """Share of `values` at or below `value`, in percent (where a typist stands in a group)."""
    clean = values.drop_nulls()
    if value is None or clean.is_empty():
        return None
    return float((clean <= value).mean() * 100)


def percentile_bands(
    values: pl.Series, quantiles: tuple[float, ...] = (0.1, 0.25, 0.5, 0.75, 0.9)
) -> dict[str, float]:
    """Population bands (p10 … p90) of a metric for drawing a typist's position against them."""
    clean = values.drop_nulls()
    return {f"p{int(q * 100)}": float(clean.quantile(q)) for q in quantiles} if clean.len() else {}
