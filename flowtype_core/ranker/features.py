"""Features of a (typist, sentence) pair, from the gold tables, without looking at the pair's own typing.

Three sources, and only these (issue 6):
- the sentence text (`examples.TEXT_COLUMNS` and the keys/digraphs it is made of);
- population statistics learnt from a set of participants (`Population`): per key and digraph, the
  latency relative to each typist's own mean IKI and the immediate-correction rate, and each
  sentence's mean relative slowness. While training, a participant's own contribution is taken
  out of the population before their rows are featurised (leave-one-participant-out), so training
  rows look like the rows of an unseen typist;
- the typist's history on their OTHER sections (leave-one-section-out): per key and digraph
  latency and corrections, shrunk towards the population value when they have few presses.

A sentence's cost adds up, over its characters after the first (whose IKI no WPM counts), the
digraph latency into each character (backing off to the key's), plus a Shift press and the key
itself for characters typed with Shift. Everything here is polars: it runs on the driver after
gold, in the app and in the Databricks training notebook alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import polars as pl

from flowtype_core.metrics.definitions import SECTION_KEY
from flowtype_core.ranker.examples import SHIFTED_CHARS, TEXT_COLUMNS

# Pseudo-counts of the shrinkage: how many presses a statistic needs before it outweighs its prior.
PRIOR_KEY = 20.0
PRIOR_DIGRAPH = 5.0
PRIOR_TYPIST = 3.0
PRIOR_SENTENCE = 2.0
# A correction costs roughly a Backspace, the retyped key and a pause: three keystrokes.
CORRECTION_COST = 3.0
RARE_PRESSES = 3
SHIFT = "SHIFT"
_SHIFTED = "[" + "".join("\\" + c if c in "^&~[]\\-" else c for c in SHIFTED_CHARS) + "]"

TEXT_FEATURES = ("chars", "word_length", "special_rate", "capitals", "punctuation", "digits", "shifted")
POPULATION_FEATURES = (
    "pop_speed",
    "pop_error_rate",
    "pop_cost",
    "pop_max_latency",
    "rare_digraphs",
    "sentence_difficulty",
)
TYPIST_FEATURES = ("typist_speed", "typist_error_rate", "typist_cost", "typist_vs_population")
FEATURES = (*TEXT_FEATURES, *POPULATION_FEATURES, *TYPIST_FEATURES)


def unit_id(kind: str, unit: str) -> str:
    """One string per key or digraph (`key:T`, `digraph:th`) so that joins use a single column."""
    return f"{kind}:{unit}"


def _uid(kind: pl.Expr, unit: pl.Expr) -> pl.Expr:
    return pl.concat_str(kind, pl.lit(":"), unit)


def text_units(sentences: Iterable[str] | pl.Series) -> pl.DataFrame:
    """What typing each sentence takes: (sentence, uid, prior_uid, t) with t occurrences.

    A character typed with Shift is `key:<char>` plus `key:SHIFT`; any other character is the
    digraph from the character before it (`prior_uid` = its own key, the back-off).
    """
    frame = pl.DataFrame({"sentence": pl.Series(list(sentences), dtype=pl.String)}).unique()
    chars = (
        frame.with_columns(pl.col("sentence").str.split("").alias("c"))
        .explode("c")
        .with_columns(
            pl.int_range(pl.len()).over("sentence").alias("i"),
            pl.col("c").shift(1).over("sentence").alias("prev"),
            pl.col("c").str.contains(_SHIFTED).alias("shifted"),
        )
        .filter(pl.col("i") > 0)
    )
    kind = pl.when(pl.col("shifted")).then(pl.lit("key")).otherwise(pl.lit("digraph"))
    unit = (
        pl.when(pl.col("shifted")).then(pl.col("c")).otherwise(pl.concat_str("prev", "c").str.to_lowercase())
    )
    typed = chars.select(
        "sentence",
        _uid(kind, unit).alias("uid"),
        pl.when(~pl.col("shifted")).then(_uid(pl.lit("key"), pl.col("c"))).alias("prior_uid"),
    )
    shifts = chars.filter("shifted").select(
        "sentence",
        pl.lit(unit_id("key", SHIFT)).alias("uid"),
        pl.lit(None, dtype=pl.String).alias("prior_uid"),
    )
    return (
        pl.concat([typed, shifts])
        .group_by("sentence", "uid", "prior_uid")
        .agg(pl.len().cast(pl.Float64).alias("t"))
        .sort("sentence", "uid")
    )


@dataclass(frozen=True)
class History:
    """Per-participant sums that every split reuses: typing history and population contributions.

    `units`: (participant_id, uid, n, iki, err) over all of a participant's sections;
    `speed`: (participant_id, p_iki_sum, p_iki_n); `sentences`: (participant_id, sentence,
    slowness_sum, sections) over their labelled sections.
    """

    units: pl.DataFrame
    speed: pl.DataFrame
    sentences: pl.DataFrame
    own_units: pl.DataFrame  # (participant_id, test_section_id, uid, n, iki, err)

    @classmethod
    def from_gold(cls, examples: pl.DataFrame, units: pl.DataFrame) -> History:
        own = units.select(
            "participant_id",
            "test_section_id",
            _uid(pl.col("kind"), pl.col("unit")).alias("uid"),
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
        return cls(per_unit, speed, sentences, own)

    def contributions(self) -> pl.DataFrame:
        """Each participant's share of population unit sums: latency relative to their mean IKI."""
        mean_iki = self.speed.select(
            "participant_id",
            pl.when(pl.col("p_iki_n") > 0).then(pl.col("p_iki_sum") / pl.col("p_iki_n")).alias("p_iki"),
        )
        return (
            self.units.join(mean_iki, on="participant_id")
            .filter(pl.col("p_iki") > 0)
            .select("participant_id", "uid", "n", (pl.col("iki") / pl.col("p_iki")).alias("rel"), "err")
        )


@dataclass(frozen=True)
class Population:
    """What a model learnt about everyone: per unit (uid, n, rel, err) and per sentence sums."""

    units: pl.DataFrame
    sentences: pl.DataFrame  # (sentence, slowness_sum, sections)

    @classmethod
    def learn(cls, history: History, participants: Iterable[str]) -> Population:
        """Sum the contributions of `participants` (the training typists)."""
        ids = pl.Series("participant_id", sorted(set(participants)), dtype=pl.String)
        units = (
            history.contributions()
            .filter(pl.col("participant_id").is_in(ids.implode()))
            .group_by("uid")
            .agg(pl.col("n", "rel", "err").sum())
            .sort("uid")
        )
        sentences = (
            history.sentences.filter(pl.col("participant_id").is_in(ids.implode()))
            .group_by("sentence")
            .agg(pl.col("slowness_sum", "sections").sum())
            .sort("sentence")
        )
        return cls(units, sentences)

    def global_rates(self) -> tuple[float, float]:
        """Mean relative latency and correction rate over all keys: the priors of rare keys."""
        keys = self.units.filter(pl.col("uid").str.starts_with("key:"))
        n = float(keys.get_column("n").sum() or 0.0)
        if n <= 0:
            return 1.0, 0.0
        return float(keys.get_column("rel").sum()) / n, float(keys.get_column("err").sum()) / n


def _shrunk(total: str, count: str, prior: pl.Expr | float, strength: float) -> pl.Expr:
    return (pl.col(total) + strength * prior) / (pl.col(count) + strength)


def unit_rows(
    targets: pl.DataFrame,
    history: History,
    population: Population,
    *,
    leave_participant_out: Iterable[str] = (),
) -> pl.LazyFrame:
    """Per target section and unit of its sentence: population and typist latency and error rate.

    `targets` has participant_id, test_section_id, sentence (and the section's own iki_sum_ms /
    iki_count, subtracted from the typist's speed). A target's own keystrokes never count: its own
    unit sums are subtracted from the typist's totals (a new sentence simply has none).
    Participants in `leave_participant_out` have their contribution taken out of the population.
    """
    g_lat, g_err = population.global_rates()
    lopo = pl.Series("participant_id", sorted(set(leave_participant_out)), dtype=pl.String)
    contrib = history.contributions().lazy().filter(pl.col("participant_id").is_in(lopo.implode()))
    rows = (
        targets.lazy()
        .select("participant_id", "test_section_id", "sentence")
        .join(text_units(targets.get_column("sentence")).lazy(), on="sentence")
    )
    sums = ("n", "rel", "err")
    # Population sums of the unit itself and of its back-off key, minus the typist's own share.
    for prefix, column in (("", "uid"), ("k_", "prior_uid")):
        pop = population.units.lazy().select(
            pl.col("uid").alias(column), *(pl.col(c).alias(f"_p{c}") for c in sums)
        )
        mine = contrib.select(
            "participant_id", pl.col("uid").alias(column), *(pl.col(c).alias(f"_o{c}") for c in sums)
        )
        rows = (
            rows.join(pop, on=column, how="left")
            .join(mine, on=["participant_id", column], how="left")
            .with_columns(
                *(
                    (pl.col(f"_p{c}").fill_null(0.0) - pl.col(f"_o{c}").fill_null(0.0)).alias(prefix + c)
                    for c in sums
                )
            )
            .drop(*(f"_p{c}" for c in sums), *(f"_o{c}" for c in sums))
        )
    key_lat = _shrunk("k_rel", "k_n", g_lat, PRIOR_KEY)
    key_err = _shrunk("k_err", "k_n", g_err, PRIOR_KEY)
    is_key = pl.col("prior_uid").is_null()
    rows = rows.with_columns(
        pl.when(is_key)
        .then(_shrunk("rel", "n", g_lat, PRIOR_KEY))
        .otherwise(_shrunk("rel", "n", key_lat, PRIOR_DIGRAPH))
        .alias("lat"),
        pl.when(is_key)
        .then(_shrunk("err", "n", g_err, PRIOR_KEY))
        .otherwise(_shrunk("err", "n", key_err, PRIOR_DIGRAPH))
        .alias("err_rate"),
        pl.col("n").alias("pop_presses"),
    )
    # The typist's other sections: their totals minus this section's own sums.
    typist_iki = (
        targets.lazy()
        .select("participant_id", "test_section_id", "iki_sum_ms", "iki_count")
        .join(history.speed.lazy(), on="participant_id", how="left")
        .select(
            "participant_id",
            "test_section_id",
            (
                (pl.col("p_iki_sum").fill_null(0.0) - pl.col("iki_sum_ms"))
                / (pl.col("p_iki_n").fill_null(0.0) - pl.col("iki_count"))
            ).alias("typist_iki"),
        )
    )
    totals = history.units.lazy().select(
        "participant_id", "uid", *(pl.col(c).alias(f"_t{c}") for c in ("n", "iki", "err"))
    )
    own = history.own_units.lazy().select(
        "participant_id", "test_section_id", "uid", *(pl.col(c).alias(f"_o{c}") for c in ("n", "iki", "err"))
    )
    other = {
        c: pl.col(f"_t{c}").fill_null(0.0) - pl.col(f"_o{c}").fill_null(0.0) for c in ("n", "iki", "err")
    }
    known = (pl.col("typist_iki") > 0) & (other["n"] > 0)
    return (
        rows.join(totals, on=["participant_id", "uid"], how="left")
        .join(own, on=["participant_id", "test_section_id", "uid"], how="left")
        .join(typist_iki, on=["participant_id", "test_section_id"], how="left")
        .with_columns(
            pl.when(known).then(other["n"]).otherwise(0.0).alias("typist_presses"),
            pl.when(known).then(other["iki"] / pl.col("typist_iki")).otherwise(0.0).alias("_trel"),
            pl.when(known).then(other["err"]).otherwise(0.0).alias("_terr"),
        )
        .with_columns(
            _shrunk("_trel", "typist_presses", pl.col("lat"), PRIOR_TYPIST).alias("typist_lat"),
            _shrunk("_terr", "typist_presses", pl.col("err_rate"), PRIOR_TYPIST).alias("typist_err_rate"),
        )
        .select(
            "participant_id",
            "test_section_id",
            "sentence",
            "uid",
            "t",
            "lat",
            "err_rate",
            "pop_presses",
            "typist_lat",
            "typist_err_rate",
            "typist_presses",
        )
    )


def _sentence_difficulty(
    targets: pl.DataFrame, history: History, population: Population, leave_participant_out: pl.Series
) -> pl.LazyFrame:
    own = history.sentences.lazy().filter(pl.col("participant_id").is_in(leave_participant_out.implode()))
    return (
        targets.lazy()
        .select("participant_id", "test_section_id", "sentence")
        .join(population.sentences.lazy(), on="sentence", how="left")
        .join(
            own.rename({"slowness_sum": "o_s", "sections": "o_n"}),
            on=["participant_id", "sentence"],
            how="left",
        )
        .select(
            "participant_id",
            "test_section_id",
            (
                (pl.col("slowness_sum").fill_null(0.0) - pl.col("o_s").fill_null(0.0) + PRIOR_SENTENCE)
                / (pl.col("sections").fill_null(0.0) - pl.col("o_n").fill_null(0.0) + PRIOR_SENTENCE)
            ).alias("sentence_difficulty"),
        )
    )


def aggregate(rows: pl.LazyFrame) -> pl.LazyFrame:
    """Per target: expected relative time and corrections per character, population and typist."""
    key = ["participant_id", "test_section_id"]
    return rows.group_by(key).agg(
        (pl.col("t") * pl.col("lat")).sum().alias("_pop_time"),
        (pl.col("t") * pl.col("err_rate")).sum().alias("_pop_errors"),
        (pl.col("t") * pl.col("typist_lat")).sum().alias("_typist_time"),
        (pl.col("t") * pl.col("typist_err_rate")).sum().alias("_typist_errors"),
        pl.col("lat").max().alias("pop_max_latency"),
        (pl.col("t") * (pl.col("pop_presses") < RARE_PRESSES).cast(pl.Float64)).sum().alias("_rare"),
    )


def section_features(
    targets: pl.DataFrame,
    history: History,
    population: Population,
    *,
    leave_participant_out: Iterable[str] = (),
) -> pl.DataFrame:
    """`targets` (with text counts) plus every column of `FEATURES`, in target order."""
    lopo = pl.Series("participant_id", sorted(set(leave_participant_out)), dtype=pl.String)
    key = ["participant_id", "test_section_id"]
    per_target = aggregate(unit_rows(targets, history, population, leave_participant_out=lopo))
    positions = pl.max_horizontal(pl.col("chars") - 1, pl.lit(1)).cast(pl.Float64)
    out = (
        targets.lazy()
        .join(per_target, on=key, how="left", maintain_order="left")
        .join(
            _sentence_difficulty(targets, history, population, lopo),
            on=key,
            how="left",
            maintain_order="left",
        )
        .with_columns(
            (pl.col("chars") / (pl.col("spaces") + 1)).alias("word_length"),
            (
                (pl.col("capitals") + pl.col("digits") + pl.col("punctuation"))
                / pl.max_horizontal("chars", 1)
            ).alias("special_rate"),
            (pl.col("_pop_time") / positions).alias("pop_speed"),
            (pl.col("_pop_errors") / positions).alias("pop_error_rate"),
            (pl.col("_typist_time") / positions).alias("typist_speed"),
            (pl.col("_typist_errors") / positions).alias("typist_error_rate"),
            (pl.col("_rare") / positions).alias("rare_digraphs"),
        )
        .with_columns(
            (pl.col("pop_speed") + CORRECTION_COST * pl.col("pop_error_rate")).alias("pop_cost"),
            (pl.col("typist_speed") + CORRECTION_COST * pl.col("typist_error_rate")).alias("typist_cost"),
            (pl.col("typist_speed") - pl.col("pop_speed")).alias("typist_vs_population"),
        )
        .drop("_pop_time", "_pop_errors", "_typist_time", "_typist_errors", "_rare")
        # Rounded so that sums taken in another order cannot move a tree split: same data, same model.
        .with_columns(pl.col(FEATURES).cast(pl.Float64).round(9))
    )
    return out.collect()


def targets_for(examples: pl.DataFrame) -> pl.DataFrame:
    """The columns `section_features` needs from gold examples."""
    return examples.select(*SECTION_KEY, "sentence", "iki_sum_ms", "iki_count", *TEXT_COLUMNS)
