"""Training the ranker: grouped cross-validation on held-out typists, then a model on everyone.

Evaluation holds typists out, never sections: participants are dealt into `folds` groups by a
seeded hash of their id; for each group, population statistics and the LightGBM lambdarank model
are learnt from the other typists only, and that group's sections are ranked. With a few hundred
typists every one is held out once; with thousands, only as many folds run as it takes to hold out
`TrainConfig.eval_participants` of them. NDCG@5/@10 is averaged over the held-out typists, for the
model and for each baseline (random order, capitals + punctuation, global sentence difficulty, the
population's expected keystroke cost, keybr's per-key confidence, Monkeytype's weakspot), with 95 %
bootstrap intervals over typists. The registered model is then fit on every typist.

A library over frames: reading the gold tables is the pipeline's (`pipeline.ranker_task`).
Everything is seeded and single-sourced, so the same data gives the same metrics: the pipeline's
`train_ranker` task and `python -m flowtype_core ranker train` agree. LightGBM is imported when a
booster is fit, so this module imports without the `ranker` extra.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from flowtype_core.corpus import load_corpus
from flowtype_core.errors import FlowTypeError
from flowtype_core.extras import require
from flowtype_core.metrics.definitions import SECTION_IDS
from flowtype_core.progress import Progress
from flowtype_core.ranker.evaluation import best_heuristic, bootstrap_intervals, evaluate
from flowtype_core.ranker.examples import EXAMPLE_SCHEMA, UNIT_SCHEMA, sentence_features
from flowtype_core.ranker.features import FEATURES, FEATURES_VERSION, FeatureBuilder, targets_for
from flowtype_core.ranker.history import History, Population
from flowtype_core.ranker.model import ModelRecord, ModelRegistry, RankerModel
from flowtype_core.ranker.peers import PEERS, peer_scores
from flowtype_core.ranker.replay import replay_fold, slow_digraph_ms, summarise

if TYPE_CHECKING:
    import lightgbm as lgb

ShouldCancel = Callable[[], bool]

LGBM_PARAMS: dict[str, Any] = {
    "objective": "lambdarank",
    "learning_rate": 0.06,
    # Stumps with a linear model in each leaf: on ~2,000 noisy sections a near-linear ranker held
    # out better than 3-leaf trees (docs/NOTES.md, "Ranker (issue 18 ...)").
    "num_leaves": 2,
    "linear_tree": True,
    "linear_lambda": 1.0,
    "min_data_in_leaf": 50,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "feature_fraction": 0.8,
    "seed": 7,
    "deterministic": True,
    "force_row_wise": True,
    # One thread: the model is small, results do not depend on the core count, and OpenMP threads
    # on a busy shared machine spin instead of working.
    "num_threads": 1,
    "verbose": -1,
}
ROUNDS = 100


class TrainingCancelled(FlowTypeError):
    """`should_cancel` asked training to stop; nothing was registered."""


@dataclass(frozen=True)
class TrainConfig:
    """How to train: cross-validation folds, the seed, the smallest typist history that is ranked."""

    folds: int = 5
    seed: int = 7
    min_sections: int = 5
    eval_participants: int = 1000
    rounds: int = ROUNDS
    lgbm: dict[str, Any] = field(default_factory=lambda: dict(LGBM_PARAMS))
    # The offline practice replay of each fold's held-out typists (`ranker.replay`): ~10 s on the
    # 156-typist sample, so the pipeline task and `ranker train` ask for it, not every caller.
    replay: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "folds": self.folds,
            "seed": self.seed,
            "min_sections": self.min_sections,
            "eval_participants": self.eval_participants,
            "rounds": self.rounds,
            "lightgbm": self.lgbm,
            "features": list(FEATURES),
            "features_version": FEATURES_VERSION,
        }


@dataclass(frozen=True)
class TrainingData:
    """The two gold tables the ranker learns from, typed to their schemas, examples in key order."""

    examples: pl.DataFrame
    units: pl.DataFrame
    source: str

    @classmethod
    def of(cls, examples: pl.DataFrame, units: pl.DataFrame, source: str) -> TrainingData:
        return cls(
            examples.select(pl.col(c).cast(t) for c, t in EXAMPLE_SCHEMA.items()).sort(SECTION_IDS),
            # Unit sums are whole numbers, so their order never changes a total: no need to sort them.
            units.select(pl.col(c).cast(t) for c, t in UNIT_SCHEMA.items()),
            source,
        )

    def fingerprint(self) -> str:
        """sha256 of the examples and an order-free hash of the unit rows: equal data, equal fingerprint.

        The unit rows are hashed row by row and summed (millions of rows, no sort); the row hash is
        polars', stable for a given polars version, so an upgrade at worst retrains once.
        """
        row_hashes = self.units.hash_rows(seed=0).cast(pl.Decimal(38, 0))
        digest = hashlib.sha256(self.examples.write_csv().encode("utf-8"))
        digest.update(f"{self.units.height}:{row_hashes.sum()}".encode())
        return digest.hexdigest()


def fold_of(participants: list[str], folds: int, seed: int) -> dict[str, int]:
    """Deal participants into folds by a seeded hash: stable whatever order they arrive in."""
    ordered = sorted(participants, key=lambda p: hashlib.sha256(f"{seed}:{p}".encode()).hexdigest())
    return {participant: i % folds for i, participant in enumerate(ordered)}


def _labelled(examples: pl.DataFrame, min_sections: int) -> pl.DataFrame:
    """Sections that can be ranked: a label, and a typist with at least `min_sections` of them."""
    rows = examples.filter(pl.col("label").is_not_null())
    return rows.filter(pl.len().over("participant_id") >= min_sections).sort(SECTION_IDS)


class _Reporter:
    """Progress over a share of the whole run, and the cancel check, in one place."""

    def __init__(self, progress: Progress | None, should_cancel: ShouldCancel | None) -> None:
        self.progress = progress
        self.should_cancel = should_cancel
        self.done = 0.0

    def __call__(self, fraction: float, message: str) -> None:
        self.check()
        # Never backwards: steps' spans are summed in floats, so a step can start a hair before
        # the previous one ended.
        self.done = min(max(fraction, self.done), 1.0)
        if self.progress is not None:
            self.progress(self.done, message)

    def check(self) -> None:
        if self.should_cancel is not None and self.should_cancel():
            raise TrainingCancelled("ranker training was cancelled; no model was registered")

    def booster_callback(self, start: float, span: float, rounds: int, what: str) -> Callable[[Any], None]:
        def callback(env: Any) -> None:
            done = env.iteration + 1
            if done % 20 == 0 or done == rounds:
                self(start + span * done / rounds, f"{what}: {done}/{rounds} boosting rounds")
            else:
                self.check()

        return callback


def fit_booster(
    featured: pl.DataFrame, config: TrainConfig, callbacks: list[Callable[[Any], None]] | None = None
) -> lgb.Booster:
    """A lambdarank booster on rows grouped by participant (rows must be sorted by participant)."""
    lightgbm = require("lightgbm", "training the ranker")
    groups = featured.group_by("participant_id", maintain_order=True).len().get_column("len").to_numpy()
    dataset = lightgbm.Dataset(
        featured.select(FEATURES).to_numpy(),
        label=featured.get_column("label").to_numpy(),
        group=groups,
        feature_name=list(FEATURES),
        params={"verbose": -1},
    )
    booster: lgb.Booster = lightgbm.train(
        config.lgbm, dataset, num_boost_round=config.rounds, callbacks=callbacks or []
    )
    return booster


@dataclass(frozen=True)
class _Prepared:
    """What every fold and the final fit share: ranked sections laid out once for features."""

    labelled: pl.DataFrame
    builder: FeatureBuilder
    everyone: list[str]
    ranked: list[str]
    peers: pl.DataFrame  # the peers' baseline scores of the labelled sections, in their order
    data: TrainingData
    history: History

    @classmethod
    def of(cls, data: TrainingData, config: TrainConfig) -> _Prepared:
        labelled = _labelled(data.examples, config.min_sections)
        ranked = labelled.get_column("participant_id").unique().sort().to_list()
        if len(ranked) < 2:
            raise FlowTypeError(
                f"the ranker needs at least 2 typists with {config.min_sections} or more typed sentences; "
                f"found {len(ranked)}"
            )
        history = History.from_gold(data.examples, data.units)
        everyone = data.examples.get_column("participant_id").unique().sort().to_list()
        peers = peer_scores(labelled.select(*SECTION_IDS, "sentence"), data.examples, data.units)
        builder = FeatureBuilder(targets_for(labelled), history)
        return cls(labelled, builder, everyone, ranked, peers.select(PEERS), data, history)

    def featured(self, population: Population, training: list[str]) -> pl.DataFrame:
        """Labelled sections (sorted, so grouped by participant) with features and label."""
        featured = self.builder.features(population, leave_participant_out=training)
        return featured.with_columns(self.labelled.get_column("label"), *self.peers)


def cross_validate(
    prepared: _Prepared, config: TrainConfig, report: _Reporter, *, start: float = 0.0, span: float = 1.0
) -> tuple[dict[str, Any], pl.DataFrame]:
    """Held-out metrics over grouped folds, and the held-out rows with their `model_score`.

    With many typists, only as many folds are evaluated as it takes to hold out
    `config.eval_participants` of them: beyond that the figure is stable and folds only cost time.
    """
    ranked = prepared.ranked
    folds = min(config.folds, len(ranked))
    assignment = fold_of(ranked, folds, config.seed)
    evaluated = min(folds, math.ceil(config.eval_participants * folds / len(ranked)))
    held_out_parts = []
    per_fold = []
    replayed: list[dict[str, Any]] = []
    for fold in range(evaluated):
        at = start + span * fold / evaluated
        held = [p for p in ranked if assignment[p] == fold]
        training = [p for p in prepared.everyone if assignment.get(p) != fold]
        report(at, f"fold {fold + 1}/{evaluated}: features from {len(training)} training typists")
        population = prepared.builder.learn(training)
        featured = prepared.featured(population, training)
        is_held = pl.col("participant_id").is_in(pl.Series(held, dtype=pl.String).implode())
        callback = report.booster_callback(
            at, span / evaluated, config.rounds, f"fold {fold + 1}/{evaluated}"
        )
        booster = fit_booster(featured.filter(~is_held), config, [callback])
        test_rows = featured.filter(is_held)
        scored = test_rows.with_columns(
            pl.Series("model_score", RankerModel(booster, population).predict(test_rows))
        )
        held_out_parts.append(scored)
        if config.replay:
            replayed += _replay(prepared, RankerModel(booster, population), held, config.seed)
        per_fold.append(
            {"fold": fold, "participants": len(held), **evaluate(scored, seed=config.seed)["model"]}
        )
    held_out = pl.concat(held_out_parts).sort(SECTION_IDS)
    methods = evaluate(held_out, seed=config.seed)
    name, _ = best_heuristic(methods)
    metrics = {
        "held_out": methods,
        "intervals": bootstrap_intervals(held_out, seed=config.seed),
        "best_heuristic": name,
        "per_fold": per_fold,
        **({"replay": summarise(replayed)} if config.replay else {}),
        "evaluation": {
            "scheme": "participants held out in grouped folds; population statistics from training folds",
            "folds": folds,
            "folds_evaluated": evaluated,
            "participants": held_out.get_column("participant_id").n_unique(),
            "sections": held_out.height,
            "seed": config.seed,
        },
    }
    return metrics, held_out


def _replay(prepared: _Prepared, model: RankerModel, held: list[str], seed: int) -> list[dict[str, Any]]:
    """The offline replay (`replay`) of one fold's held-out typists over the practice corpus."""
    pool = [s.text for s in load_corpus()]
    candidates = sentence_features(
        pl.DataFrame(
            {
                "participant_id": [p for p in held for _ in pool],
                "test_section_id": [f"candidate:{i}" for _ in held for i in range(len(pool))],
                "sentence": pool * len(held),
                "iki_sum_ms": [0.0] * (len(pool) * len(held)),
                "iki_count": [0] * (len(pool) * len(held)),
            },
            schema_overrides={"iki_count": pl.Int64},
        )
    )
    scored = model.score(candidates, prepared.history)
    slow = slow_digraph_ms(prepared.history, model.population, held)
    keys = candidates.select("participant_id", "test_section_id", "sentence")
    return replay_fold(keys, scored, prepared.data.examples, prepared.data.units, slow, seed=seed)


def fit_final(
    prepared: _Prepared, config: TrainConfig, report: _Reporter, *, start: float, span: float
) -> RankerModel:
    """The model to serve: population from every typist, booster on every ranked section."""
    population = prepared.builder.learn(prepared.everyone)
    featured = prepared.featured(population, prepared.everyone)
    callback = report.booster_callback(start, span, config.rounds, "final model")
    return RankerModel(fit_booster(featured, config, [callback]), population)


def _config_of(params: dict[str, Any]) -> TrainConfig:
    """The training configuration a registered version recorded in its params."""
    return TrainConfig(
        folds=params["folds"],
        seed=params["seed"],
        min_sections=params["min_sections"],
        eval_participants=params["eval_participants"],
        rounds=params["rounds"],
        lgbm=dict(params["lightgbm"]),
    )


def serving_decision(
    metrics: dict[str, Any],
    data: TrainingData,
    prepared: _Prepared,
    config: TrainConfig,
    current: ModelRecord | None,
    report: _Reporter,
) -> dict[str, Any]:
    """Whether the new version should replace `current`: only if it ranks the same held-out folds
    better (NDCG@5). The current version's figure on those folds is its own recorded one when it
    saw the same data with the same fold scheme, else its configuration is cross-validated again
    on this data's folds; a version from older feature code cannot be replayed and is kept."""
    ours = float(metrics["held_out"]["model"]["ndcg@5"])
    if current is None:
        return {"served": True, "reason": "the first model version"}
    decision: dict[str, Any] = {"against": current.version}
    if current.params.get("features_version") != FEATURES_VERSION:
        return decision | {
            "served": False,
            "reason": f"{current.version} has other feature code: it cannot be evaluated on these folds",
        }
    recorded = _config_of(current.params)
    # Their model settings on our fold scheme: the same typists held out, the same sections ranked.
    replay = replace(config, rounds=recorded.rounds, lgbm=recorded.lgbm)
    if (
        replace(replay, replay=False) == recorded
        and current.training_data.get("fingerprint") == data.fingerprint()
    ):
        theirs = current.ndcg5  # same data, same folds, same settings: its figure is reproducible
    else:
        report(0.75, f"cross-validating {current.version}'s settings on the same folds")
        replayed, _ = cross_validate(prepared, replay, report, start=0.75, span=0.05)
        theirs = float(replayed["held_out"]["model"]["ndcg@5"])
    served = ours > theirs
    verdict = "beats" if served else "does not beat"
    return decision | {
        "served": served,
        "current_ndcg@5": theirs,
        "reason": f"NDCG@5 {ours:.3f} {verdict} {current.version}'s {theirs:.3f} on the same held-out folds",
    }


def train_from_frames(
    examples: pl.DataFrame,
    units: pl.DataFrame,
    *,
    models_dir: str | Path,
    config: TrainConfig | None = None,
    progress: Progress | None = None,
    should_cancel: ShouldCancel | None = None,
    source: str = "frames",
) -> ModelRecord:
    """Evaluate, fit and register a model from gold frames (polars); the notebook entry point.

    The new version becomes the served one only when it beats the current one on the same
    held-out folds (`serving_decision`, recorded in its metrics under `serving`).
    """
    config = config or TrainConfig()
    report = _Reporter(progress, should_cancel)
    data = TrainingData.of(examples, units, source)
    report(0.02, "laying out the training sections")
    prepared = _Prepared.of(data, config)
    metrics, _ = cross_validate(prepared, config, report, start=0.05, span=0.7)
    registry = ModelRegistry(models_dir)
    metrics["serving"] = serving_decision(metrics, data, prepared, config, registry.current(), report)
    model = fit_final(prepared, config, report, start=0.8, span=0.15)
    report(0.96, "registering the model")
    record = registry.register(
        model,
        metrics=metrics,
        params=config.to_dict(),
        training_data={
            "fingerprint": data.fingerprint(),
            "source": data.source,
            "participants": data.examples.get_column("participant_id").n_unique(),
            "sections": data.examples.height,
            "unit_rows": data.units.height,
        },
        make_current=metrics["serving"]["served"],
    )
    served = "served" if metrics["serving"]["served"] else "not served"
    report(1.0, f"registered {record.version} ({served}): NDCG@5 {record.ndcg5:.3f} on held-out typists")
    return record


def score_sections(model: RankerModel, data: TrainingData) -> pl.DataFrame:
    """participant_id, test_section_id, score for every section (higher = harder for that typist).

    Each section is scored as an unseen sentence would be: from its text, the model's population
    and the typist's other sections, so its own keystrokes never move its own score.
    """
    scored = model.score(targets_for(data.examples), History.from_gold(data.examples, data.units))
    return scored.select("participant_id", "test_section_id", "score").sort(
        "participant_id", "test_section_id"
    )
