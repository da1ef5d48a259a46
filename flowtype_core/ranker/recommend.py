"""Adaptive practice: the corpus sentences the current model expects to be hardest for a typist.

The typing test asks for the next sentences of the logged-in participant. With a model and a
typing history, candidates are ranked on that typist's own key and digraph speed and corrections
(from the CSV store, the durable record, so the latest session counts at once) and each pick says
which keys or digraphs it targets. With a model but no history, the population's view ranks them.
If the served model did worse on held-out typists than its best baseline (too little data yet), the
baseline orders the sentences. Without a model, the typist gets sentences they have not typed, in a
random order, and is told so.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import polars as pl

from flowtype_core.corpus import Sentence, load_corpus
from flowtype_core.errors import InvalidInput
from flowtype_core.ids import check_id
from flowtype_core.ranker.evaluation import HEURISTICS
from flowtype_core.ranker.examples import examples_from_keystrokes, sentence_features
from flowtype_core.ranker.features import CORRECTION_COST, PRIOR_TYPIST, FeatureBuilder
from flowtype_core.ranker.history import History
from flowtype_core.ranker.model import ModelRecord, ModelRegistry, models_dir_of
from flowtype_core.ranker.peers import PEERS, peer_scores
from flowtype_core.schema import KEYSTROKES
from flowtype_core.store.csv_store import SessionStore

MODEL, POPULATION, BASELINE, DEFAULT = "model", "population", "baseline", "default"
TARGETS_SHOWN = 3
# A target is at least this much slower (in the typist's own mean IKIs) than most typists.
MIN_EXCESS = 0.1
CANDIDATE_PREFIX = "candidate:"


class PracticeSource(Protocol):
    """Where a typist's history and the models are: a `Workbench` is one."""

    @property
    def store(self) -> SessionStore: ...

    @property
    def data_dir(self) -> Path: ...


@dataclass(frozen=True)
class Recommendation:
    """A sentence to practise, how hard the model expects it to be, and why it was picked.

    `source` is `model` (ranked on the typist's history), `population` (a model but no history),
    `baseline` (the model did worse than a baseline on held-out typists, so the baseline ranks) or
    `default` (no model); `targets` are the keys/digraphs it practises, as shown in `reason`.
    """

    sentence: Sentence
    score: float
    reason: str
    targets: tuple[str, ...] = ()
    source: str = MODEL


def describe_unit(uid: str) -> str:
    """`digraph:th` -> `'th'`, `key:T` -> `'T'`, `key:SHIFT` -> `Shift`, spaces shown as `␣`."""
    kind, _, unit = uid.partition(":")
    if kind == "key" and unit == "SHIFT":
        return "Shift"
    return "'" + unit.replace(" ", "␣") + "'"


@dataclass(frozen=True)
class _Typed:
    """A typist's gold frames from their own keystrokes, and the model's history over them."""

    examples: pl.DataFrame
    units: pl.DataFrame
    history: History

    @classmethod
    def of(cls, keystrokes: pl.DataFrame) -> _Typed:
        examples, units = examples_from_keystrokes(keystrokes)
        return cls(examples, units, History.from_gold(examples, units))


def _candidates(participant_id: str, sentences: list[Sentence]) -> pl.DataFrame:
    frame = pl.DataFrame(
        {
            "participant_id": [participant_id] * len(sentences),
            "test_section_id": [CANDIDATE_PREFIX + s.id for s in sentences],
            "sentence": [s.text for s in sentences],
            "iki_sum_ms": [0.0] * len(sentences),
            "iki_count": [0] * len(sentences),
        },
        schema_overrides={"iki_count": pl.Int64},
    )
    return sentence_features(frame)


def _targets(rows: pl.DataFrame) -> dict[str, tuple[str, ...]]:
    """Per candidate, the units where this typist is slower or less accurate than the population."""
    known = rows.filter(pl.col("typist_presses") >= PRIOR_TYPIST)
    # Per press, not per sentence: a rare slow pair is a better target than a common, barely slow one.
    excess = (pl.col("typist_lat") - pl.col("lat")) + CORRECTION_COST * (
        pl.col("typist_err_rate") - pl.col("err_rate")
    )
    ranked = (
        known.with_columns(excess.alias("excess"))
        .filter(pl.col("excess") > MIN_EXCESS)
        .sort(["test_section_id", "excess", "uid"], descending=[False, True, False])
        .group_by("test_section_id", maintain_order=True)
        .agg(pl.col("uid").head(TARGETS_SHOWN))
    )
    return {row[0]: tuple(describe_unit(u) for u in row[1]) for row in ranked.iter_rows()}


def _model_picks(
    record: ModelRecord, participant_id: str, pool: list[Sentence], typed: _Typed, has_history: bool
) -> list[Recommendation]:
    """Candidates ranked by the model, or by the best baseline when that beat the model held out."""
    model = record.load()
    history = typed.history
    candidates = _candidates(participant_id, pool)
    scored = model.score(candidates, history)
    baseline = _stronger_baseline(record)
    if baseline in PEERS:
        scored = peer_scores(scored, typed.examples, typed.units)
    if baseline is not None:
        scored = scored.with_columns(HEURISTICS[baseline].cast(pl.Float64).alias("score"))
    targets = _targets(FeatureBuilder(candidates, history).unit_rows(model.population)) if has_history else {}
    by_id = {CANDIDATE_PREFIX + s.id: s for s in pool}
    picks = []
    for section_id, score in scored.select("test_section_id", "score").iter_rows():
        aimed = targets.get(section_id, ())
        practises = "practises what is slow or error-prone for you: " + ", ".join(aimed)
        if baseline is not None:
            source = BASELINE
            reason = f"ordered by the {baseline.replace('_', ' ')} baseline, which still beats the model on new typists"
            reason += f"; it {practises}" if aimed else ""
        elif aimed:
            source, reason = MODEL, practises
        elif has_history:
            source = MODEL
            reason = (
                "expected to be hard for you (capitals, punctuation and letter pairs most typists find slow)"
            )
        else:
            source, reason = POPULATION, "no typing history yet: picked for what most typists find hard"
        picks.append(Recommendation(by_id[section_id], float(score), reason, aimed, source))
    return sorted(picks, key=lambda r: (-r.score, r.sentence.id))


def _stronger_baseline(record: ModelRecord) -> str | None:
    """The baseline to rank by instead of the model, if one did better on held-out typists."""
    held_out = record.metrics["held_out"]
    best = record.metrics["best_heuristic"]
    return best if held_out[best]["ndcg@5"] > held_out["model"]["ndcg@5"] else None


def recommend_sentences(
    workbench: PracticeSource, participant_id: str, n: int, *, exclude: Iterable[str] = ()
) -> list[Recommendation]:
    """The `n` corpus sentences (not in `exclude`, ids) to practise next, hardest expected first.

    Sentences the typist has not typed yet are preferred while enough remain.
    """
    check_id(participant_id, "participant_id")
    excluded = set(exclude)
    corpus = [s for s in load_corpus() if s.id not in excluded]
    if not 0 <= n <= len(corpus):
        raise InvalidInput(f"cannot recommend {n} sentences: {len(corpus)} are available after exclusions")
    sections = workbench.store.read_all("sections.csv", participant_id)
    typed = set(sections.get_column("sentence_id").drop_nulls().to_list())
    fresh = [s for s in corpus if s.id not in typed]
    pool = fresh if len(fresh) >= n else corpus
    record = ModelRegistry(models_dir_of(workbench)).current()
    if record is None:
        rng = random.Random(f"{participant_id}:{len(typed)}")
        picks = rng.sample(pool, n)
        reason = "no ranker model has been trained yet: a random choice of sentences" + (
            " you have not typed" if pool is fresh else ""
        )
        return [Recommendation(s, 0.0, reason, (), DEFAULT) for s in picks]
    keystrokes = workbench.store.read_all("keystrokes.csv", participant_id)
    typed = _Typed.of(keystrokes if keystrokes.height else KEYSTROKES.empty())
    return _model_picks(record, participant_id, pool, typed, keystrokes.height > 0)[:n]
