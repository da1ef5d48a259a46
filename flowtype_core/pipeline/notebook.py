"""What a layer notebook needs in two lines, on Databricks (Spark) or on a laptop (polars).

    context = notebook_context(globals())
    finish_notebook(globals(), run_bronze(context))

On Databricks (`spark` and `dbutils` in the notebook's globals) the catalog is `SparkCatalog` over
`catalog.schema` and bronze reads the session files from the Unity Catalog volume
`/Volumes/<catalog>/<schema>/<volume>/sessions` (models go to `.../models`, where the app reads
them); anywhere else it is the local Delta catalog of
`FLOWTYPE_DATA_DIR`. Widgets (`catalog`, `schema`, `volume`) override the configured names.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flowtype_core.config import load_settings
from flowtype_core.pipeline.layers import LayerResult, PipelineContext
from flowtype_core.progress import described
from flowtype_core.workbench import open_workbench

WIDGETS = ("catalog", "schema", "volume")


def notebook_context(namespace: dict[str, Any]) -> PipelineContext:
    """The pipeline context for the environment the notebook runs in."""
    dbutils = namespace.get("dbutils")
    if dbutils is None or namespace.get("spark") is None:  # a laptop: the local runner's layers
        return open_workbench(FLOWTYPE_STRICT="false", FLOWTYPE_RUNNER="local").pipeline_context(printed)
    settings = load_settings({"FLOWTYPE_STRICT": "false"})
    from flowtype_core.pipeline.spark_catalog import SparkCatalog

    db = settings.databricks
    defaults = {"catalog": db.catalog, "schema": db.schema, "volume": db.volume}
    names = {}
    for widget in WIDGETS:
        dbutils.widgets.text(widget, defaults[widget])
        names[widget] = dbutils.widgets.get(widget) or defaults[widget]
    catalog = SparkCatalog(namespace["spark"], names["catalog"], names["schema"])
    volume = Path("/Volumes") / names["catalog"] / names["schema"] / names["volume"]
    return PipelineContext(catalog, volume / "sessions", volume / "models", progress=printed)


def printed(fraction: float, message: str, /) -> None:
    """Progress as the notebook's output lines."""
    print(described(fraction, message))


def finish_notebook(namespace: dict[str, Any], result: LayerResult) -> dict[str, Any]:
    """Hand the layer's figures to the job (`dbutils.notebook.exit`), or return them for display."""
    figures = result.to_dict()
    dbutils = namespace.get("dbutils")
    if dbutils is not None:
        dbutils.notebook.exit(json.dumps(figures, default=str))
    return figures
