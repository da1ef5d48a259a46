"""NDCG@k per held-out typist, and the baselines a model has to beat.

Gains are `2**grade - 1` with `1/log2(rank + 1)` discounts (LightGBM's lambdarank definition).
A typist's NDCG is computed over their own sections; a method's figure is the mean over typists.
Ties in a ranking are broken by a seeded random order, so a coarse heuristic (a count of
capitals) is neither favoured nor penalised by the order rows happen to be stored in.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import polars as pl

from flowtype_core.ranker.peers import KEYBR, WEAKSPOT
from flowtype_core.scalars import number_or_none

KS = (5, 10)
BOOTSTRAP_RESAMPLES = 1000
RANDOM = "random"
# Heuristics: higher = predicted harder. Each is a column of the feature frame or an expression.
HEURISTICS: Mapping[str, pl.Expr] = {
    "capitals_punctuation": pl.col("capitals") + pl.col("punctuation"),
    "sentence_difficulty": pl.col("sentence_difficulty"),
    "population_key_cost": pl.col("pop_cost"),
    # The peers' per-key models (`peers.peer_scores` adds their columns).
    KEYBR: pl.col(KEYBR),
    WEAKSPOT: pl.col(WEAKSPOT),
}


def _discounts(n: int) -> np.ndarray:
    return 1.0 / np.log2(np.arange(2, n + 2))


def ndcg_per_group(frame: pl.DataFrame, score: str, k: int, *, seed: int = 0) -> pl.DataFrame:
    """(participant_id, ndcg) of ranking each participant's rows by `score` (desc) against `label`."""
    ordered = frame.select("participant_id", "test_section_id", "label", score).sort(
        "participant_id", "test_section_id"
    )
    ties = np.random.default_rng(seed).permutation(ordered.height)
    gain = (2.0 ** pl.col("label").cast(pl.Float64)) - 1.0
    position = pl.int_range(1, pl.len() + 1).over("participant_id")
    discount = 1.0 / (position + 1).cast(pl.Float64).log(2)
    ranked = (
        ordered.with_columns(pl.Series("_tie", ties))
        .sort(["participant_id", score, "_tie"], descending=[False, True, False], nulls_last=True)
        .with_columns(pl.when(position <= k).then(gain * discount).otherwise(0.0).alias("_dcg"))
        .group_by("participant_id")
        .agg(pl.col("_dcg").sum())
    )
    ideal = (
        ordered.sort(["participant_id", "label"], descending=[False, True])
        .with_columns(pl.when(position <= k).then(gain * discount).otherwise(0.0).alias("_idcg"))
        .group_by("participant_id")
        .agg(pl.col("_idcg").sum())
    )
    return ranked.join(ideal, on="participant_id").select(
        "participant_id",
        pl.when(pl.col("_idcg") > 0).then(pl.col("_dcg") / pl.col("_idcg")).otherwise(1.0).alias("ndcg"),
    )


def random_ndcg_per_group(frame: pl.DataFrame, k: int) -> pl.DataFrame:
    """The exact expected NDCG@k of a uniformly random order: mean gain times the top-k discounts."""
    rows = []
    for (participant,), group in frame.group_by("participant_id"):
        gains = 2.0 ** group.get_column("label").to_numpy().astype(float) - 1.0
        top = min(k, len(gains))
        ideal = float((np.sort(gains)[::-1][:top] * _discounts(top)).sum())
        expected = float(gains.mean() * _discounts(top).sum())
        rows.append((participant, expected / ideal if ideal > 0 else 1.0))
    return pl.DataFrame(rows, schema={"participant_id": pl.String, "ndcg": pl.Float64}, orient="row")


def per_typist(frame: pl.DataFrame, *, seed: int = 0) -> dict[str, dict[int, pl.DataFrame]]:
    """(participant_id, ndcg) per method and k: `model_score` (when present), random, each heuristic.

    `frame`: held-out rows with participant_id, test_section_id, label and the feature columns.
    """
    scored = frame.with_columns(**{name: expr for name, expr in HEURISTICS.items()})
    methods = ["model_score"] if "model_score" in frame.columns else []
    methods += list(HEURISTICS)
    result = {
        "model" if method == "model_score" else method: {
            k: ndcg_per_group(scored, method, k, seed=seed) for k in KS
        }
        for method in methods
    }
    result[RANDOM] = {k: random_ndcg_per_group(frame, k) for k in KS}
    return result


def evaluate(frame: pl.DataFrame, *, seed: int = 0) -> dict[str, dict[str, float]]:
    """NDCG@5 and @10 (mean over typists) of `model_score` (when present), random order and each heuristic."""
    return {
        method: {f"ndcg@{k}": _mean(groups) for k, groups in by_k.items()}
        for method, by_k in per_typist(frame, seed=seed).items()
    }


def bootstrap_intervals(
    frame: pl.DataFrame, *, seed: int = 0, resamples: int = BOOTSTRAP_RESAMPLES
) -> dict[str, dict[str, list[float]]]:
    """95 % percentile intervals of each method's mean NDCG@k, resampling typists with replacement.

    Every method is resampled with the same draws, so intervals compare like with like.
    """
    groups = per_typist(frame, seed=seed)
    typists = sorted(frame.get_column("participant_id").unique().to_list())
    draws = np.random.default_rng(seed).integers(0, len(typists), size=(resamples, len(typists)))
    order = pl.DataFrame({"participant_id": pl.Series(typists, dtype=pl.String)})
    result: dict[str, dict[str, list[float]]] = {}
    for method, by_k in groups.items():
        result[method] = {}
        for k, values in by_k.items():
            ndcg = order.join(values, on="participant_id", how="left").get_column("ndcg").to_numpy()
            means = np.nanmean(ndcg[draws], axis=1)
            low, high = np.percentile(means, [2.5, 97.5])
            result[method][f"ndcg@{k}"] = [round(float(low), 6), round(float(high), 6)]
    return result


def best_heuristic(metrics: Mapping[str, Mapping[str, float]], k: int = 5) -> tuple[str, float]:
    """The strongest baseline other than random order, by NDCG@k."""
    name = max(HEURISTICS, key=lambda h: metrics[h][f"ndcg@{k}"])
    return name, metrics[name][f"ndcg@{k}"]


def _mean(per_group: pl.DataFrame) -> float:
    value = number_or_none(per_group.get_column("ndcg").mean())
    return round(value, 6) if value is not None and not math.isnan(value) else 0.0
