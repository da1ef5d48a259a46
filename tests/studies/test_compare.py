"""Per-condition comparison: participant means, then a seeded bootstrap interval over participants."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
from polars.testing import assert_frame_equal

from flowtype_core.studies.compare import compare_conditions


def _sections() -> pl.DataFrame:
    rows = []
    # Condition a: 4 typists at 40, 50, 60, 70 WPM, two sections each (one per typist twice as long).
    for i, wpm in enumerate((40, 50, 60, 70)):
        for extra in (-5, 5):
            rows.append(("a", f"a{i}", wpm + extra, 1.0, 200.0, True))
    rows.append(("a", "a0", 500.0, 0.0, 10.0, False))  # flagged invalid: left out
    rows.append(("b", "b0", 30.0, 2.0, 300.0, True))  # one typist: no interval
    rows.append(("other", "x", 99.0, 0.0, 1.0, True))
    frame = pl.DataFrame(
        rows,
        schema=["condition", "participant_id", "wpm", "error_rate", "mean_iki_ms", "valid"],
        orient="row",
    )
    return frame.with_columns(
        study_id=pl.when(pl.col("condition") == "other").then(pl.lit("s2")).otherwise(pl.lit("s1"))
    )


def test_means_are_over_participants_and_invalid_sections_are_left_out() -> None:
    table = compare_conditions(_sections(), study_id="s1")
    wpm = {r["condition"]: r for r in table.filter(pl.col("metric") == "WPM").iter_rows(named=True)}
    assert set(wpm) == {"a", "b"}  # other study's rows excluded
    assert wpm["a"]["participants"] == 4 and wpm["a"]["mean"] == 55.0
    low, high = wpm["a"]["ci_low"], wpm["a"]["ci_high"]
    assert 40 <= low < 55 < high <= 70
    # The interval is the bootstrap of the four participant means, not of the eight sections.
    rng = np.random.default_rng(0)
    draws = rng.choice([40.0, 50.0, 60.0, 70.0], size=(2000, 4)).mean(axis=1)
    assert (low, high) == tuple(np.percentile(draws, [2.5, 97.5]))
    assert wpm["b"]["participants"] == 1 and wpm["b"]["mean"] == 30.0
    assert math.isnan(wpm["b"]["ci_low"]) and math.isnan(wpm["b"]["ci_high"])


def test_same_seed_same_interval() -> None:
    first = compare_conditions(_sections(), study_id="s1", seed=3)
    assert_frame_equal(first, compare_conditions(_sections(), study_id="s1", seed=3))
