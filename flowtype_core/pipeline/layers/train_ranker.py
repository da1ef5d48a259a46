"""The train_ranker task: train and register the ranker from the gold ranker tables when they changed."""

from __future__ import annotations

from flowtype_core.errors import FlowTypeError
from flowtype_core.pipeline.layers.context import LayerResult, PipelineContext
from flowtype_core.pipeline.layers.steps import timed
from flowtype_core.pipeline.ranker_task import read_gold
from flowtype_core.ranker.features import FEATURES_VERSION
from flowtype_core.ranker.model import ModelRegistry
from flowtype_core.ranker.train import TrainConfig, train_from_frames


def run_train_ranker(ctx: PipelineContext) -> LayerResult:
    """Train and register the ranker from the gold ranker tables, unless the newest version already
    learnt from exactly this data (same fingerprint) with the same feature code: then nothing is
    trained or written. A new version is served only if it beats the current one (see
    `ranker.train.serving_decision`)."""

    def work(result: LayerResult) -> None:
        gold = read_gold(ctx.catalog)
        if gold is None:
            raise FlowTypeError(
                "nothing to train on yet: gold has written no ranker examples (record or import"
                " typing sessions, then run the pipeline again)"
            )
        examples, units = gold.examples, gold.units
        result.rows_in = examples.height
        # The newest version, served or not: a version that lost to the current one on these very
        # folds would lose again, so the same data is not retrained every run.
        versions = ModelRegistry(ctx.models_dir).versions()
        newest = versions[-1] if versions else None
        fingerprint = gold.fingerprint()
        up_to_date = (
            newest is not None
            and newest.training_data.get("fingerprint") == fingerprint
            and newest.params.get("features_version") == FEATURES_VERSION  # same data, same feature code
        )
        if newest is not None and up_to_date:
            record, result.details["trained"] = newest, False
        else:
            record = train_from_frames(
                examples,
                units,
                models_dir=ctx.models_dir,
                config=TrainConfig(replay=True),
                progress=ctx.progress,
                source="gold",
            )
            result.details["trained"] = True
        held_out = record.metrics["held_out"]
        result.details |= {
            "model_version": record.version,
            "served": record.metrics.get("serving", {}).get("served", True),
            "model_path": record.model_path,
            "ndcg@5": record.ndcg5,
            "ndcg@10": float(held_out["model"]["ndcg@10"]),
            "baselines_ndcg@5": {name: float(m["ndcg@5"]) for name, m in held_out.items() if name != "model"},
        }

    return timed("train_ranker", work)
