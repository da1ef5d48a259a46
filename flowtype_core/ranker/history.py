"""The sums features are made of: each typist's history per unit, and what a population learnt.

`History` is computed once from the gold tables; `Population` is learnt per cross-validation fold
from its training typists (`FeatureBuilder.learn`) and saved with every model.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from flowtype_core.ranker.units import uid_expr


@dataclass(frozen=True)
class History:
    """Per-participant sums every split reuses: typing history and population contributions.

    `units`: (participant_id, uid, n, iki, err) over all of a participant's sections;
    `own_units`: the same per section (with test_section_id); `speed`: (participant_id,
    p_iki_sum, p_iki_n); `sentences`: (participant_id, sentence, slowness_sum, sections) over
    labelled sections; `contributions`: (participant_id, uid, n, rel, err), a participant's share of
    the population sums, latency relative to their own mean IKI.
    """

    units: pl.DataFrame
    own_units: pl.DataFrame
    speed: pl.DataFrame
    sentences: pl.DataFrame
    contributions: pl.DataFrame

    @classmethod
    def from_gold(cls, examples: pl.DataFrame, units: pl.DataFrame) -> History:
        own = units.select(
            "participant_id",
            "test_section_id",
            uid_expr(pl.col("kind"), pl.col("unit")).alias("uid"),
            pl.col("presses").cast(pl.Float64).alias("n"),
            pl.col("iki_sum_ms").cast(pl.Float64).alias("iki"),
            pl.col("corrected").cast(pl.Float64).alias("err"),
        )
        per_unit = own.group_by("participant_id", "uid").agg(pl.col("n", "iki", "err").sum())
        speed = examples.group_by("participant_id").agg(
            pl.col("iki_sum_ms").sum().cast(pl.Float64).alias("p_iki_sum"),
            pl.col("iki_count").sum().cast(pl.Float64).alias("p_iki_n"),
        )
        sentences = (
            examples.filter(pl.col("relative_slowness").is_not_null())
            .group_by("participant_id", "sentence")
            .agg(
                pl.col("relative_slowness").sum().alias("slowness_sum"),
                pl.len().cast(pl.Float64).alias("sections"),
            )
        )
        mean_iki = speed.filter(pl.col("p_iki_n") > 0).select(
            "participant_id", (pl.col("p_iki_sum") / pl.col("p_iki_n")).alias("p_iki")
        )
        contributions = (
            per_unit.join(mean_iki, on="participant_id")
            .filter(pl.col("p_iki") > 0)
            .select("participant_id", "uid", "n", (pl.col("iki") / pl.col("p_iki")).alias("rel"), "err")
        )
        return cls(per_unit, own, speed, sentences, contributions)


@dataclass(frozen=True)
class Population:
    """What a model learnt about everyone: per unit (uid, n, rel, err) and per sentence sums."""

    units: pl.DataFrame
    sentences: pl.DataFrame  # (sentence, slowness_sum, sections)

    def global_rates(self) -> tuple[float, float]:
        """Mean relative latency and correction rate over all keys: the priors of rare keys."""
        keys = self.units.filter(pl.col("uid").str.starts_with("key:"))
        n = float(keys.get_column("n").sum() or 0.0)
        if n <= 0:
            return 1.0, 0.0
        return float(keys.get_column("rel").sum()) / n, float(keys.get_column("err").sum()) / n
