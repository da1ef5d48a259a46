"""The medallion pipeline (SPEC §3.7): bronze, silver and gold over a catalog, run by a runner.

    from flowtype_core.pipeline import local_context, run_targets
    results = run_targets(["all"], local_context("data"))

`transforms` holds the one definition of each transform (narwhals: polars and Spark alike),
`expectations` silver's rules, `catalog` the storage per engine, `layers` the incremental steps,
`runners/` how a run is executed and watched (in a local process or as a Databricks job).
"""

from flowtype_core.pipeline.catalog import Catalog, LocalDeltaCatalog
from flowtype_core.pipeline.layers import LAYERS, LayerResult, PipelineContext
from flowtype_core.pipeline.plan import (
    TARGETS,
    gold_population_summary,
    gold_sections,
    local_context,
    plan,
    run_targets,
)

__all__ = [
    "LAYERS",
    "TARGETS",
    "Catalog",
    "LayerResult",
    "LocalDeltaCatalog",
    "PipelineContext",
    "gold_population_summary",
    "gold_sections",
    "local_context",
    "plan",
    "run_targets",
]
