"""Targets a user can run (`bronze`, ..., `all`) as ordered layer tasks, and the local wiring.

Runners execute `plan(target)` task by task; the same functions serve the CLI, the app, the
local runner's worker process and notebooks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import polars as pl

from flowtype_core import metrics
from flowtype_core.config import Settings
from flowtype_core.errors import FlowTypeError
from flowtype_core.pipeline.catalog import Catalog, CatalogReader, LocalDeltaCatalog
from flowtype_core.pipeline.layers import LAYERS, LayerResult, PipelineContext
from flowtype_core.pipeline.tables import GOLD_PARTICIPANTS, GOLD_SECTIONS
from flowtype_core.progress import Progress
from flowtype_core.ranker.model import models_dir_of

TARGETS: dict[str, tuple[str, ...]] = {
    **{layer: (layer,) for layer in LAYERS},
    "all": tuple(LAYERS),
}


def plan(target: str) -> tuple[str, ...]:
    """The tasks a target runs, in order."""
    if target not in TARGETS:
        raise ValueError(f"unknown pipeline target {target!r}; choose one of {', '.join(TARGETS)}")
    return TARGETS[target]


def data_dir_context(
    catalog: Catalog, data_dir: str | Path, progress: Progress | None = None
) -> PipelineContext:
    """The pipeline over the session files of `data_dir` (`sessions/`) writing to `catalog`;
    models are registered under `<data-dir>/models` (where `ranker train` puts them too)."""
    root = Path(data_dir)
    context = PipelineContext(catalog, root / "sessions", models_dir_of(root))
    if progress is not None:
        context.progress = progress
    return context


def with_spark(catalog: Catalog, spark: Any) -> Catalog:
    """`catalog`'s tables transformed on `spark` (Databricks Connect) when one is given."""
    if spark is None:
        return catalog
    from flowtype_core.pipeline.spark_catalog import SparkComputeCatalog  # the extra's module

    if not isinstance(catalog, LocalDeltaCatalog):
        raise FlowTypeError("a Spark engine computes over the local Delta tables only")
    return SparkComputeCatalog(spark, catalog)


def local_context(
    data_dir: str | Path, progress: Progress | None = None, *, spark: Any = None
) -> PipelineContext:
    """The local runner's pipeline over `data_dir` with polars and delta-rs (or a Spark session's
    compute), without reading any settings (a notebook on a laptop, tests); configured callers use
    `Workbench.pipeline_context`."""
    catalog = LocalDeltaCatalog.of(Settings(data_dir=Path(data_dir)))
    return data_dir_context(with_spark(catalog, spark), data_dir, progress)


def run_targets(
    targets: Iterable[str],
    context: PipelineContext,
    on_result: Callable[[LayerResult], Any] | None = None,
) -> list[LayerResult]:
    """Run each target's tasks in order in this process (notebooks, the CLI, the local worker)."""
    results = []
    for target in targets:
        for task in plan(target):
            result = LAYERS[task](context)
            results.append(result)
            if on_result is not None:
                on_result(result)
    return results


def _gold(catalog: CatalogReader, table: str) -> Any:
    scan = catalog.scan(table)
    if scan is None:
        raise FlowTypeError("the gold tables are empty: run `python -m flowtype_core pipeline run all` first")
    return scan


def gold_sections(catalog: CatalogReader) -> pl.DataFrame:
    """The gold sections table (metrics, quality_flags, valid) as a polars frame."""
    return catalog.to_polars(_gold(catalog, GOLD_SECTIONS))


def gold_population_summary(catalog: CatalogReader) -> dict[str, float | int | None]:
    """Population figures (SPEC §3.5) from the gold participant table instead of raw keystrokes."""
    return metrics.population_summary(_gold(catalog, GOLD_PARTICIPANTS))
