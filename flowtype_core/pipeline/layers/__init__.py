"""The layers as steps over a catalog: what is new, which transform to apply, what to replace.

`run_bronze`, `run_silver` and `run_gold` work on any `Catalog` (polars locally, Spark on
Databricks) and are incremental: bronze ingests only files whose (path, content hash) it has not
seen (`bronze`), silver only bronze rows newer than its watermark (`silver`), gold only sections
silver changed since its watermark (`gold`); `train_ranker` retrains when gold changed. Watermarks
(epoch microseconds) are committed with the data they cover, so a re-run with nothing new reads a
little and writes nothing. `context` holds what a layer is given and returns, `steps` what the
layers share.
"""

from __future__ import annotations

from collections.abc import Callable

from flowtype_core.pipeline.layers.bronze import run_bronze
from flowtype_core.pipeline.layers.context import LayerResult, PipelineContext
from flowtype_core.pipeline.layers.gold import run_gold
from flowtype_core.pipeline.layers.silver import run_silver
from flowtype_core.pipeline.layers.train_ranker import run_train_ranker

LAYERS: dict[str, Callable[[PipelineContext], LayerResult]] = {
    "bronze": run_bronze,
    "silver": run_silver,
    "gold": run_gold,
    "train_ranker": run_train_ranker,
}

__all__ = [
    "LAYERS",
    "LayerResult",
    "PipelineContext",
    "run_bronze",
    "run_gold",
    "run_silver",
    "run_train_ranker",
]
