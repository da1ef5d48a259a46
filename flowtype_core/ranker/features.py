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
itself for characters typed with Shift. Everything here is polars and numpy on the driver after
gold, in the app and in the Databricks training notebook alike. `FeatureBuilder` lays a set of
sections out once as arrays (one row per section and unit of its sentence), so that the features
against each cross-validation fold's population are a few vectorised passes, not a join each.
The units are named in `units`, the sums live in `history`, the array lookups in `lookup`.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import polars as pl

from flowtype_core.metrics.definitions import SECTION_IDS
from flowtype_core.ranker.examples import TEXT_COLUMNS
from flowtype_core.ranker.history import History, Population
from flowtype_core.ranker.lookup import Index, aligned, coded, vocabulary
from flowtype_core.ranker.units import text_units

# Pseudo-counts of the shrinkage: how many presses a statistic needs before it outweighs its prior.
PRIOR_KEY = 20.0
PRIOR_DIGRAPH = 5.0
PRIOR_TYPIST = 3.0
PRIOR_SENTENCE = 2.0
# A correction costs roughly a Backspace, the retyped key and a pause: three keystrokes.
CORRECTION_COST = 3.0

TEXT_FEATURES = ("chars", "word_length", "special_rate", "capitals", "punctuation", "digits", "shifted")
# Fewer, stronger features: the per-part speeds and error rates, the slowest digraph, the rare-digraph
# share and the typist-minus-population gap each moved held-out NDCG@5 by less than the seed spread
# when dropped, and all of them together cost ~0.01 (docs/NOTES.md, "Ranker (issue 18 ...)").
POPULATION_FEATURES = ("pop_cost", "sentence_difficulty")
TYPIST_FEATURES = ("typist_speed", "typist_cost")
FEATURES = (*TEXT_FEATURES, *POPULATION_FEATURES, *TYPIST_FEATURES)
# Bumped whenever a feature's definition changes, so a model trained on the same data with older
# features is recognisably different (see `TrainConfig.to_dict`).
FEATURES_VERSION = 3


class FeatureBuilder:
    """The features of fixed target sections against any population, leave-one-section-out.

    `targets` has participant_id, test_section_id, sentence, the section's own iki_sum_ms /
    iki_count (zero for a sentence not typed yet) and the text counts; `history` holds the typing
    of the targets' participants (and of everyone else in the population).
    """

    def __init__(self, targets: pl.DataFrame, history: History) -> None:
        self.targets = targets
        text = text_units(targets.get_column("sentence"))
        self.uids = vocabulary(text["uid"], text["prior_uid"], history.units["uid"])
        self.people = vocabulary(
            targets["participant_id"], history.units["participant_id"], history.sentences["participant_id"]
        )
        self.sentences = vocabulary(targets["sentence"], history.sentences["sentence"])
        sections = vocabulary(targets["test_section_id"])
        units, sentence_count = self.uids.len(), self.sentences.len()
        mine = coded(
            targets,
            {
                "_p": ("participant_id", self.people),
                "_s": ("sentence", self.sentences),
                "_x": ("test_section_id", sections),
            },
            ("iki_sum_ms", "iki_count"),
        )
        self._target_person, self._target_sentence = mine["_p"], mine["_s"]
        count = len(mine["_p"])
        # One row per target and unit of its sentence, ordered by (target, unit).
        text_rows = coded(
            text.sort("sentence", "uid"),
            {"_s": ("sentence", self.sentences), "_u": ("uid", self.uids), "_k": ("prior_uid", self.uids)},
            ("t",),
        )
        per_sentence = np.bincount(text_rows["_s"], minlength=sentence_count)
        first = np.cumsum(per_sentence) - per_sentence
        sizes = per_sentence[mine["_s"]]
        r = np.repeat(np.arange(count), sizes)
        source = np.repeat(first[mine["_s"]] - (np.cumsum(sizes) - sizes), sizes) + np.arange(len(r))
        u, k = text_rows["_u"][source], text_rows["_k"][source]
        p = mine["_p"][r]
        self._rows = {"_r": r, "_p": p, "_u": u, "_k": k, "t": text_rows["t"][source]}
        # Population shares of the row's unit and of its back-off key, to leave a participant out.
        contributions = coded(
            history.contributions,
            {"_p": ("participant_id", self.people), "_u": ("uid", self.uids)},
            ("n", "rel", "err"),
        )
        self._contrib = contributions
        shares = Index(contributions["_p"] * units + contributions["_u"], contributions)
        for prefix, unit in (("cu", u), ("ck", k)):
            found = shares.take(p * units + unit, ("n", "rel", "err"))
            self._rows |= {f"{prefix}_{c}": np.where(unit >= 0, v, 0.0) for c, v in found.items()}
        # The typist's other sections: totals minus this section's own sums, in their LOSO mean IKI.
        typist = coded(
            history.units,
            {"_p": ("participant_id", self.people), "_u": ("uid", self.uids)},
            ("n", "iki", "err"),
        )
        totals = Index(typist["_p"] * units + typist["_u"], typist).take(p * units + u, ("n", "iki", "err"))
        own = coded(
            history.own_units,
            {
                "_p": ("participant_id", self.people),
                "_x": ("test_section_id", sections),
                "_u": ("uid", self.uids),
            },
            ("n", "iki", "err"),
        )
        target_of = Index(mine["_p"] * sections.len() + mine["_x"], {"r": np.arange(count)})
        own_target, is_target = target_of.find(own["_p"] * sections.len() + own["_x"])
        keep = is_target & (own["_x"] >= 0)
        own_index = Index(
            target_of.values["r"][own_target[keep]] * units + own["_u"][keep],
            {c: own[c][keep] for c in ("n", "iki", "err")},
        )
        ours = own_index.take(r * units + u, ("n", "iki", "err"))
        speed = coded(history.speed, {"_p": ("participant_id", self.people)}, ("p_iki_sum", "p_iki_n"))
        typist_speed = Index(speed["_p"], speed).take(mine["_p"], ("p_iki_sum", "p_iki_n"))
        other_iki_n = typist_speed["p_iki_n"] - mine["iki_count"]
        typist_iki = np.where(
            other_iki_n > 0, typist_speed["p_iki_sum"] - mine["iki_sum_ms"], 0.0
        ) / np.maximum(other_iki_n, 1.0)
        other_n = totals["n"] - ours["n"]
        row_iki = typist_iki[r]
        known = (row_iki > 0) & (other_n > 0)
        self._rows["tp_n"] = np.where(known, other_n, 0.0)
        self._rows["tp_rel"] = np.where(
            known, (totals["iki"] - ours["iki"]) / np.where(known, row_iki, 1.0), 0.0
        )
        self._rows["tp_err"] = np.where(known, totals["err"] - ours["err"], 0.0)
        # Sentences: population sums by sentence, and each target typist's own share of them.
        sentence_rows = coded(
            history.sentences,
            {"_p": ("participant_id", self.people), "_s": ("sentence", self.sentences)},
            ("slowness_sum", "sections"),
        )
        self._sentence_contrib = sentence_rows
        self._own_sentence = Index(
            sentence_rows["_p"] * sentence_count + sentence_rows["_s"], sentence_rows
        ).take(mine["_p"] * sentence_count + mine["_s"], ("slowness_sum", "sections"))

    def _mask(self, participants: Iterable[str]) -> np.ndarray:
        chosen = pl.Series("participant_id", sorted(set(participants)), dtype=pl.String)
        return self.people.is_in(chosen.implode()).to_numpy()

    def learn(self, participants: Iterable[str]) -> Population:
        """Population statistics from these participants' contributions (the training typists)."""
        weight = self._mask(participants).astype(np.float64)
        c, sizes = self._contrib, self.uids.len()
        w = weight[c["_p"]]
        units = pl.DataFrame(
            {
                "uid": self.uids,
                **{k: np.bincount(c["_u"], weights=c[k] * w, minlength=sizes) for k in ("n", "rel", "err")},
            }
        ).filter(pl.col("n") > 0)
        s = self._sentence_contrib
        ws = weight[s["_p"]]
        sentences = pl.DataFrame(
            {
                "sentence": self.sentences,
                **{
                    k: np.bincount(s["_s"], weights=s[k] * ws, minlength=self.sentences.len())
                    for k in ("slowness_sum", "sections")
                },
            }
        ).filter(pl.col("sections") > 0)
        return Population(units, sentences)

    def _unit_arrays(self, population: Population, left_out: np.ndarray) -> dict[str, np.ndarray]:
        """Per row: population and typist latency and correction rate of the row's unit.

        `left_out` (per person code) marks participants whose own contribution is in `population`
        and is taken out of their rows.
        """
        g_lat, g_err = population.global_rates()
        pop = aligned(self.uids, population.units, ("n", "rel", "err"))
        r = self._rows
        left_out = left_out.astype(np.float64)[r["_p"]]
        n, rel, err = (pop[k][r["_u"]] - left_out * r[f"cu_{k}"] for k in ("n", "rel", "err"))
        has_prior = r["_k"] >= 0
        prior = np.where(has_prior, r["_k"], 0)
        k_n, k_rel, k_err = (pop[k][prior] - left_out * r[f"ck_{k}"] for k in ("n", "rel", "err"))
        key_lat = (k_rel + PRIOR_KEY * g_lat) / (k_n + PRIOR_KEY)
        key_err = (k_err + PRIOR_KEY * g_err) / (k_n + PRIOR_KEY)
        lat = np.where(
            has_prior,
            (rel + PRIOR_DIGRAPH * key_lat) / (n + PRIOR_DIGRAPH),
            (rel + PRIOR_KEY * g_lat) / (n + PRIOR_KEY),
        )
        err_rate = np.where(
            has_prior,
            (err + PRIOR_DIGRAPH * key_err) / (n + PRIOR_DIGRAPH),
            (err + PRIOR_KEY * g_err) / (n + PRIOR_KEY),
        )
        return {
            "lat": lat,
            "err_rate": err_rate,
            "pop_presses": n,
            "typist_lat": (r["tp_rel"] + PRIOR_TYPIST * lat) / (r["tp_n"] + PRIOR_TYPIST),
            "typist_err_rate": (r["tp_err"] + PRIOR_TYPIST * err_rate) / (r["tp_n"] + PRIOR_TYPIST),
            "typist_presses": r["tp_n"],
        }

    def features(self, population: Population, *, leave_participant_out: Iterable[str] = ()) -> pl.DataFrame:
        """The targets (in their order) with every column of `FEATURES`."""
        left_out = self._mask(leave_participant_out)
        units = self._unit_arrays(population, left_out)
        r, t = self._rows["_r"], self._rows["t"]
        count = self.targets.height

        def total(values: np.ndarray) -> np.ndarray:
            return np.bincount(r, weights=t * values, minlength=count)

        by_sentence = aligned(self.sentences, population.sentences, ("slowness_sum", "sections"))
        mine = left_out.astype(np.float64)[self._target_person]
        slowness = (
            by_sentence["slowness_sum"][self._target_sentence] - mine * self._own_sentence["slowness_sum"]
        )
        sections = by_sentence["sections"][self._target_sentence] - mine * self._own_sentence["sections"]
        computed = pl.DataFrame(
            {
                "_pop_time": total(units["lat"]),
                "_pop_errors": total(units["err_rate"]),
                "_typist_time": total(units["typist_lat"]),
                "_typist_errors": total(units["typist_err_rate"]),
                "sentence_difficulty": (slowness + PRIOR_SENTENCE) / (sections + PRIOR_SENTENCE),
            }
        )
        positions = pl.max_horizontal(pl.col("chars") - 1, pl.lit(1)).cast(pl.Float64)
        return (
            pl.concat([self.targets, computed], how="horizontal")
            .with_columns(
                (pl.col("chars") / (pl.col("spaces") + 1)).alias("word_length"),
                (
                    (pl.col("capitals") + pl.col("digits") + pl.col("punctuation"))
                    / pl.max_horizontal("chars", 1)
                ).alias("special_rate"),
                ((pl.col("_pop_time") + CORRECTION_COST * pl.col("_pop_errors")) / positions).alias(
                    "pop_cost"
                ),
                (pl.col("_typist_time") / positions).alias("typist_speed"),
                ((pl.col("_typist_time") + CORRECTION_COST * pl.col("_typist_errors")) / positions).alias(
                    "typist_cost"
                ),
            )
            .drop("_pop_time", "_pop_errors", "_typist_time", "_typist_errors")
            # Rounded so that no last-bit difference can move a tree split: same data, same model.
            .with_columns(pl.col(FEATURES).cast(pl.Float64).round(9))
        )

    def unit_rows(self, population: Population) -> pl.DataFrame:
        """Per target and unit of its sentence: population vs typist latency and corrections."""
        units = self._unit_arrays(population, self._mask(()))
        section = self.targets.get_column("test_section_id").gather(self._rows["_r"])
        return pl.DataFrame(
            {
                "test_section_id": section,
                "uid": self.uids.gather(self._rows["_u"]),
                "t": self._rows["t"],
                **units,
            }
        )


def section_features(
    targets: pl.DataFrame,
    history: History,
    population: Population,
    *,
    leave_participant_out: Iterable[str] = (),
) -> pl.DataFrame:
    """`targets` plus every column of `FEATURES`, in target order (see `FeatureBuilder`)."""
    return FeatureBuilder(targets, history).features(population, leave_participant_out=leave_participant_out)


def targets_for(examples: pl.DataFrame) -> pl.DataFrame:
    """The columns `FeatureBuilder` needs from gold examples."""
    return examples.select(*SECTION_IDS, "sentence", "iki_sum_ms", "iki_count", *TEXT_COLUMNS)
