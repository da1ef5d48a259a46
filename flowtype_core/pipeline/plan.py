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
from flowtype_core.errors import FlowTypeError
from flowtype_core.pipeline.catalog import Catalog, LocalDeltaCatalog
from flowtype_core.pipeline.layers import LAYERS, LayerResult, PipelineContext
from flowtype_core.pipeline.tables import GOLD_PARTICIPANTS, GOLD_SECTIONS
from flowtype_core.workbench import Workbench

TARGETS: dict[str, tuple[str, ...]] = {
    **{layer: (layer,) for layer in LAYERS},
    "all": tuple(LAYERS),
}


def plan(target: str) -> tuple[str, ...]:
    """The tasks a target runs, in order."""
    if target not in TARGETS:
        raise ValueError(f"unknown pipeline target {target!r}; choose one of {', '.join(TARGETS)}")
    return TARGETS[target]


def local_context(
    data_dir: str | Path, progress: Callable[[str], None] | None = None, *, spark: Any = None
) -> PipelineContext:
    """The pipeline over `<data-dir>/sessions` and `<data-dir>/lakehouse` with polars and delta-rs;
    models are registered under `<data-dir>/models` (where `ranker train` puts them too).

    With a Spark session (`spark_session()`, Databricks Connect) the same tables are transformed
    on Spark instead of polars (`SparkComputeCatalog`).
    """
    root = Path(data_dir)
    catalog: Catalog = LocalDeltaCatalog(root / "lakehouse")
    if spark is not None:
        from flowtype_core.pipeline.spark_catalog import SparkComputeCatalog

        catalog = SparkComputeCatalog(spark, catalog)
    context = PipelineContext(catalog, root / "sessions", root / "models")
    if progress is not None:
        context.progress = progress
    return context


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


def _catalog(source: Catalog | Workbench) -> Catalog:
    return source if isinstance(source, Catalog) else local_context(source.data_dir).catalog


def _gold(source: Catalog | Workbench, table: str) -> Any:
    scan = _catalog(source).scan(table)
    if scan is None:
        raise FlowTypeError("the gold tables are empty: run `python -m flowtype_core pipeline run all` first")
    return scan


def gold_sections(source: Catalog | Workbench) -> pl.DataFrame:
    """The gold sections table (metrics, quality_flags, valid) as a polars frame."""
    return _catalog(source).to_polars(_gold(source, GOLD_SECTIONS))


def gold_population_summary(source: Catalog | Workbench) -> dict[str, float | int | None]:
    """Population figures (SPEC §3.5) from the gold participant table instead of raw keystrokes.

    `source` is a catalog, or a workbench whose data directory holds the local gold tables.
    """
    return metrics.population_summary(_gold(source, GOLD_PARTICIPANTS))
