"""Conditions compared: per-condition means over participants with 95 % bootstrap intervals.

Participants, not sections, are the unit (each typist's mean first, SPEC §3.5), so a fast typist
with many sentences cannot narrow an interval. The interval is the percentile bootstrap over
participants, seeded, so the same data always prints the same interval.
"""

from __future__ import annotations

import numpy as np
import polars as pl

METRICS = {"wpm": "WPM", "error_rate": "Uncorrected error rate (%)", "mean_iki_ms": "Mean IKI (ms)"}
RESAMPLES = 2000
LEVEL = 0.95


def _interval(values: np.ndarray, rng: np.random.Generator) -> tuple[float, float]:
    if len(values) < 2:
        return (float("nan"), float("nan"))
    draws = rng.choice(values, size=(RESAMPLES, len(values)), replace=True).mean(axis=1)
    tail = (1 - LEVEL) / 2 * 100
    low, high = np.percentile(draws, [tail, 100 - tail])
    return float(low), float(high)


def compare_conditions(sections: pl.DataFrame, *, study_id: str, seed: int = 0) -> pl.DataFrame:
    """One row per (condition, metric): participants, mean and its 95 % interval.

    Sections flagged invalid are left out (flag, don't reject: they stay stored); a condition with
    one participant has no interval (NaN), which the page says in words.
    """
    rows = sections.filter((pl.col("study_id") == study_id) & pl.col("valid").fill_null(value=True))
    per_participant = rows.group_by("condition", "participant_id").agg(pl.col(list(METRICS)).mean())
    rng = np.random.default_rng(seed)
    out = []
    for (condition,), part in sorted(per_participant.partition_by("condition", as_dict=True).items()):
        for metric, label in METRICS.items():
            values = part.sort("participant_id").get_column(metric).drop_nulls().drop_nans().to_numpy()
            low, high = _interval(values, rng)
            out.append(
                {
                    "condition": condition,
                    "metric": label,
                    "participants": len(values),
                    "mean": float(values.mean()) if len(values) else float("nan"),
                    "ci_low": low,
                    "ci_high": high,
                }
            )
    schema = {"condition": pl.String, "metric": pl.String, "participants": pl.Int64}
    return pl.DataFrame(out, schema=schema | dict.fromkeys(("mean", "ci_low", "ci_high"), pl.Float64))
