"""Difficulty-adjusted speed: progress over sessions that a change of sentence mix cannot fake.

The ranker hands a typist harder or easier sentences over time, so raw WPM per session mixes
skill with sentence difficulty. A sentence's ease is learnt from the population with each
typist's own level taken out: the mean, over the typists who typed it, of their WPM on it divided
by their overall WPM (1.0 = an average sentence, 0.8 = typed 20 % slower than usual). A section's
expected WPM is the population's WPM times that ease, and the typist's relative speed is their
WPM over the expected one (1.0 = as fast as an average typist on that sentence).
"""

from __future__ import annotations

import polars as pl

MIN_TYPISTS = 2  # a sentence's ease needs at least this many typists (a cell size, for privacy too)


def expected_speed(
    sections: pl.DataFrame, population: pl.DataFrame, *, min_typists: int = MIN_TYPISTS
) -> pl.DataFrame:
    """`sections` with `expected_wpm` and `relative_speed` added, ease learnt from `population`.

    Both frames are `section_metrics` rows. Sentences typed by fewer than `min_typists` typists
    (and every sentence when the population itself is smaller) get nulls: no estimate rather than
    one that is another person's value in disguise.
    """
    rated = population.filter(pl.col("wpm").is_not_null())
    level = rated.group_by("participant_id").agg(pl.col("wpm").mean().alias("_level"))
    ease = (
        rated.join(level, on="participant_id")
        .group_by("sentence", "participant_id")
        .agg((pl.col("wpm") / pl.col("_level")).mean().alias("_ratio"))
        .group_by("sentence")
        .agg(pl.col("_ratio").mean().alias("ease"), pl.len().alias("_typists"))
        .filter(pl.col("_typists") >= min_typists)
    )
    population_wpm = level.get_column("_level").mean() if level.height >= min_typists else None
    return (
        sections.join(ease.select("sentence", "ease"), on="sentence", how="left")
        .with_columns((pl.col("ease") * pl.lit(population_wpm, pl.Float64)).alias("expected_wpm"))
        .with_columns((pl.col("wpm") / pl.col("expected_wpm")).alias("relative_speed"))
        .drop("ease")
    )


def speed_by_session(sections: pl.DataFrame) -> pl.DataFrame:
    """Per participant and session, in order: session number (1, 2, …), start, raw and relative speed.

    `sections` comes from `expected_speed`; a session's figures are means over its sections.
    """
    return (
        sections.group_by("participant_id", "session_id")
        .agg(
            pl.col("started_at").min(),
            pl.col("wpm").mean(),
            pl.col("expected_wpm").mean(),
            pl.col("relative_speed").mean(),
            pl.len().alias("sections"),
        )
        .sort("participant_id", "started_at")
        .with_columns(pl.int_range(1, pl.len() + 1).over("participant_id").alias("session_number"))
    )
